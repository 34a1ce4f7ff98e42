/**
 * A small store's NetSuite account: items, the saved searches, and builders for the documents a
 * BigCommerce order leaves behind (sales order -> invoice / cash sale / return authorization ->
 * credit memo / cash refund, and customer refunds paying credit memos out).
 *
 * Refund builders take what a person would type (positive quantities and amounts) and store them
 * the way NetSuite's transaction search reports a refund: amounts negative, discounts positive.
 */
import lib from 'SuiteScripts/refund_sync/rs_refund_export_lib';
import { FakeAccount, installFakeNetSuite } from './fakeNetSuite';

export const ITEMS = {
    mug: { id: 11, itemid: 'Blue Mug', type: 'InvtPart', fields: { custitem_bc_sku: 'MUG-BLUE' } },
    shirt: { id: 12, itemid: 'Red Shirt L', type: 'InvtPart', fields: { custitem_bc_sku: 'SHIRT-RED-L' } },
    wrap: { id: 13, itemid: 'Gift Wrap', type: 'Service', fields: {} },
    sale: { id: 20, itemid: 'Spring Sale', type: 'Discount', fields: {} },
    subtotal: { id: 21, itemid: 'Subtotal', type: 'Subtotal', fields: {} },
};

export const LINE_LEVEL_SEARCH = 'customsearch_rs_refund_lines';

export function storeAccount(options = {}) {
    const account = installFakeNetSuite(new FakeAccount(options));
    Object.values(ITEMS).forEach((item) => account.addItem(item));
    account.addItemField('custitem_bc_sku');
    account.addSavedSearch(lib.DEFAULT_SAVED_SEARCH_ID, { filterExpression: lib.sampleSavedSearchDefinition().filters });
    // The same selection at line level: one row per item line, so a refund appears several times.
    account.addSavedSearch(LINE_LEVEL_SEARCH, {
        filterExpression: [
            ['type', 'anyof', 'CashRfnd', 'CustCred'], 'AND', ['mainline', 'is', 'F'], 'AND', ['taxline', 'is', 'F'],
            'AND', ['cogs', 'is', 'F'], 'AND', ['custbody_rs_exclude', 'is', 'F'],
        ],
    });
    account.addSavedSearch('customsearch_customers', { searchType: 'customer' });
    return account;
}

const cents = (text) => Math.round(Number(text) * 100);
const money = (units) => (units / 100).toFixed(2);

export function addSalesOrder(account, { id, orderId, tranId = `SO-${id}`, fields = {} }) {
    return account.addTransaction({ id, typeCode: 'SalesOrd', tranId, fields: { custbody_fa_channel_order: orderId, ...fields } });
}

export function addBilled(account, { id, typeCode = 'CustInvc', from = null, tranId, fields = {} }) {
    const prefix = { CustInvc: 'INV', CashSale: 'CS', RtnAuth: 'RMA' }[typeCode];
    return account.addTransaction({ id, typeCode, tranId: tranId || `${prefix}-${id}`, createdFrom: from, fields });
}

/**
 * A cash refund or credit memo. `lines`: [{item, quantity, rate, amount, tax, lineId}] with
 * positive money for what is given back; a discount line has a negative amount. `headerDiscount`
 * is the body-level discount (positive magnitude); `discountAsRow` lists it among the item rows
 * too, as some accounts show it.
 */
export function addRefund(account, spec) {
    const typeCode = spec.typeCode || 'CustCred';
    const prefix = typeCode === 'CustCred' ? 'CM' : 'CR';
    const lines = (spec.lines || [{ item: ITEMS.mug, quantity: '1', rate: '20.00', amount: '20.00', tax: '0.00' }]).map((line, index) => ({
        line: index + 1,
        itemId: line.item.id,
        quantity: line.quantity === undefined ? '' : `-${line.quantity}`,
        rate: line.rate === undefined ? '' : line.rate,
        amount: money(-cents(line.amount)),
        taxAmount: money(-cents(line.tax || '0')),
        memo: line.description || `${line.item.itemid}`,
        fields: line.lineId ? { custcol_rs_bc_line_id: line.lineId } : {},
    }));
    const headerDiscount = cents(spec.headerDiscount || '0');
    if (spec.discountAsRow && headerDiscount) {
        lines.push({ line: lines.length + 1, itemId: ITEMS.sale.id, quantity: '', rate: `-${spec.headerDiscount}`, amount: money(headerDiscount), taxAmount: '0.00', memo: 'Spring Sale', fields: {} });
    }
    const itemTotal = (spec.lines || [{ amount: '20.00', tax: '0' }]).reduce((sum, line) => sum + cents(line.amount) + cents(line.tax || '0'), 0);
    const shipping = cents(spec.shipping || '0');
    const shippingTax = cents(spec.shippingTax || '0');
    const lineTax = (spec.lines || []).reduce((sum, line) => sum + cents(line.tax || '0'), 0);
    const total = itemTotal + shipping + shippingTax - headerDiscount + cents(spec.discountTax || '0');
    return account.addTransaction({
        id: spec.id,
        typeCode,
        tranId: spec.tranId || `${prefix}-${spec.id}`,
        createdFrom: spec.from || null,
        total: money(spec.total !== undefined ? -cents(spec.total) : -total),
        taxTotal: money(-(lineTax + shippingTax + cents(spec.discountTax || '0'))),
        shipping: money(shipping),
        discount: headerDiscount ? money(-headerDiscount) : '',
        lastModified: spec.lastModified || '2024-04-15T10:00:00Z',
        tranDate: spec.tranDate || '2024-04-15',
        memo: spec.memo || '',
        fields: { custbody_rs_exclude: false, ...(spec.fields || {}) },
        externalId: spec.externalId || '',
        source: spec.source || '',
        paymentMethod: spec.paymentMethod || '',
        pnRefNum: spec.pnRefNum || '',
        otherRefNum: spec.otherRefNum || '',
        currency: spec.currency || 'USD',
        entity: spec.entity || { id: 7, name: 'Jane Doe' },
        lines,
    });
}

export function addCustomerRefund(account, { id, appliedTo, tranId = `CRF-${id}`, voided = false }) {
    return account.addTransaction({ id, typeCode: 'CustRfnd', tranId, appliedTo, voided, total: '0.00' });
}

/** A BigCommerce order that reached NetSuite and was invoiced then credited: SO -> invoice -> credit memo. */
export function addCreditedOrder(account, { orderId, soId, invoiceId, creditMemoId, refund = {} }) {
    addSalesOrder(account, { id: soId, orderId });
    addBilled(account, { id: invoiceId, typeCode: 'CustInvc', from: soId });
    return addRefund(account, { id: creditMemoId, typeCode: 'CustCred', from: invoiceId, ...refund });
}
