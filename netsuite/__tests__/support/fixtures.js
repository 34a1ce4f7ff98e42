/**
 * A small store's NetSuite account: items, the saved searches, and builders for the documents a
 * BigCommerce order leaves behind (sales order -> invoice / cash sale / return authorization ->
 * credit memo / cash refund, and customer refunds paying credit memos out).
 *
 * Refund builders take what a person would type (positive quantities and amounts) and store them
 * the way NetSuite's transaction search reports a refund: amounts negative, discounts positive, a
 * header discount on its own row.
 */
import lib from 'SuiteScripts/refund_sync/rs_refund_export_lib';
import { cents, FakeAccount, installFakeNetSuite, money } from './fakeNetSuite';

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
    const [refundSearch] = lib.savedSearchDefinitions();
    account.addSavedSearch(lib.DEFAULT_SAVED_SEARCH_ID, { filterExpression: refundSearch.filters });
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

/** A OneWorld account whose parent is USD-based, with a subsidiary in Ireland (EUR) and one in the UK (GBP). */
export function oneWorldAccount(options = {}) {
    const account = storeAccount({ ...options, oneWorld: true });
    account.addSubsidiary({ id: 2, name: 'Store Europe Ltd', baseCurrency: 'EUR', consolidatedRate: '1.0900' });
    account.addSubsidiary({ id: 3, name: 'Store UK Ltd', baseCurrency: 'GBP', consolidatedRate: '1.2700' });
    return account;
}

export function addSalesOrder(account, { id, orderId, tranId = `SO-${id}`, fields = {} }) {
    return account.addTransaction({ id, typeCode: 'SalesOrd', tranId, fields: { custbody_fa_channel_order: orderId, ...fields } });
}

export function addBilled(account, { id, typeCode = 'CustInvc', from = null, tranId, fields = {} }) {
    const prefix = { CustInvc: 'INV', CashSale: 'CS', RtnAuth: 'RMA' }[typeCode];
    return account.addTransaction({ id, typeCode, tranId: tranId || `${prefix}-${id}`, createdFrom: from, fields });
}

/** `units` x rate, rounded half away from zero to the cent. */
const taxAt = (units, rate) => Math.sign(units) * Math.round(Math.abs(units) * Number(rate));

/**
 * SuiteTax lines' tax at `rate`. A header discount taxed before tax lowers each item's tax basis
 * by its share of the discount; after tax it lowers only the total (NetSuite help, "Tax Details on
 * Transactions in SuiteTax"). The discount line itself carries no tax detail either way.
 */
function suiteTaxLines(account, lines, discount, rate) {
    const amounts = lines.map((line) => cents(line.amount));
    const sum = amounts.reduce((a, b) => a + b, 0);
    let given = 0;
    return lines.map((line, index) => {
        let basis = amounts[index];
        if (discount && account.readings.suiteTaxDiscount === 'beforeTax' && sum) {
            const share = index === lines.length - 1 ? discount - given : Math.round((discount * amounts[index]) / sum);
            given += share;
            basis -= share;
        }
        return { ...line, tax: money(taxAt(basis, rate)) };
    });
}

/**
 * A cash refund or credit memo. `lines`: [{item, quantity, rate, amount, tax, lineId, taxCode}]
 * with positive money for what is given back; a discount item line has a negative amount.
 * `headerDiscount` (positive magnitude) is the body-level discount, which NetSuite lists as its
 * own row with transactiondiscount T; `discountTax` its tax (legacy). With `suiteTaxRate` the
 * lines' tax is what SuiteTax computes at that rate under the account's discount reading.
 * `currency`, `exchangeRate` and `subsidiary` place it in a OneWorld account.
 */
export function addRefund(account, spec) {
    const typeCode = spec.typeCode || 'CustCred';
    const prefix = typeCode === 'CustCred' ? 'CM' : 'CR';
    const headerDiscount = cents(spec.headerDiscount || '0');
    let typed = spec.lines || [{ item: ITEMS.mug, quantity: '1', rate: '20.00', amount: '20.00', tax: '0.00' }];
    if (spec.suiteTaxRate) typed = suiteTaxLines(account, typed, headerDiscount, spec.suiteTaxRate);
    const lines = typed.map((line, index) => ({
        line: index + 1,
        itemId: line.item.id,
        quantity: line.quantity === undefined ? '' : `-${line.quantity}`,
        rate: line.rate === undefined ? '' : line.rate,
        amount: money(-cents(line.amount)),
        taxAmount: money(-cents(line.tax || '0')),
        taxCode: line.taxCode || 'VAT',
        memo: line.description || `${line.item.itemid}`,
        fields: line.lineId ? { custcol_rs_bc_line_id: line.lineId } : {},
    }));
    const discountTax = cents(spec.discountTax || '0');
    if (headerDiscount) {
        lines.push({
            line: lines.length + 1,
            itemId: ITEMS.sale.id,
            quantity: '',
            rate: `-${spec.headerDiscount}`,
            amount: money(headerDiscount),
            taxAmount: money(discountTax),
            taxCode: spec.suiteTaxRate ? '' : 'VAT',
            memo: 'Spring Sale',
            fields: {},
            transactionDiscount: true,
        });
    }
    const itemTotal = typed.reduce((sum, line) => sum + cents(line.amount) + cents(line.tax || '0'), 0);
    const shipping = cents(spec.shipping || '0');
    const shippingTax = cents(spec.shippingTax || '0');
    const total = itemTotal + shipping + shippingTax - headerDiscount - discountTax;
    return account.addTransaction({
        id: spec.id,
        typeCode,
        tranId: spec.tranId || `${prefix}-${spec.id}`,
        createdFrom: spec.from || null,
        total: money(spec.total !== undefined ? -cents(spec.total) : -total),
        shipping: money(-shipping),
        shippingTax: money(-shippingTax),
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
        exchangeRate: spec.exchangeRate || '1',
        subsidiary: spec.subsidiary || 1,
        periodClosed: Boolean(spec.periodClosed),
        periodAllowsNonGLChanges: Boolean(spec.periodAllowsNonGLChanges),
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
