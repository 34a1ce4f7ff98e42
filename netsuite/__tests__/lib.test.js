/**
 * The pure rules of the refund export, exercised directly: validation, configuration, filters,
 * decimals and sign normalisation, refund assembly and its invariant, order-id resolution and the
 * paid-out rule. Assembled refunds and built requests are checked against the contract schema.
 */
import lib from 'SuiteScripts/refund_sync/rs_refund_export_lib';
import { contractErrors, expectContract } from './support/contract';

const CONFIG = {
    savedSearchId: 'customsearch_rs_refunds',
    orderIdField: 'custbody_fa_channel_order',
    skuField: 'itemid',
    lineIdField: 'custcol_rs_bc_line_id',
    productIdField: null,
    variantIdField: null,
    loopGuardField: null,
    defaultPageSize: 500,
};

function thrownBy(action) {
    try {
        action();
    } catch (thrown) {
        return thrown;
    }
    throw new Error('expected an error');
}

const header = (overrides = {}) => ({
    id: '1042',
    typeCode: 'CustCred',
    tranId: 'CM-1042',
    tranDate: '2024-04-15',
    lastModified: '2024-04-15T10:00:00Z',
    memo: '',
    customerName: 'Jane Doe',
    currency: 'USD',
    total: '-110.00',
    taxTotalWeight: '-10.00',
    createdFromId: '',
    createdFromTypeCode: '',
    createdFromTranId: '',
    orderValue: '',
    createdFromOrderValue: '',
    ...overrides,
});

const itemRow = (overrides = {}) => ({
    refundId: '1042',
    line: '1',
    lineKey: '104201',
    itemId: '11',
    itemName: 'Blue Mug',
    itemType: 'InvtPart',
    sku: 'MUG-BLUE',
    description: 'Blue mug, 12 oz',
    quantity: '-2',
    rate: '50.00',
    amount: '-100.00',
    taxWeight: '-10.00',
    ...overrides,
});

const amountRow = (amount, line = '900') => ({ refundId: '1042', line, amount });
const d = (text) => lib.parseDecimal(text);
const texts = (decimals) => decimals.map((value) => lib.formatDecimal(value, 2));

describe('exact decimals', () => {
    it('adds money without binary rounding: 0.10 + 0.20 is 0.30', () => {
        const sum = [lib.parseDecimal('0.10'), lib.parseDecimal('0.20')];
        expect(lib.formatDecimal({ units: sum[0].units + sum[1].units, scale: 2 }, 2)).toBe('0.30');
    });

    it.each([
        ['-100.00', '-100.00'],
        ['.5', '0.50'],
        ['-.5', '-0.50'],
        ['1,234.5', '1234.50'],
        ['7', '7.00'],
        ['-0.00', '0.00'],
    ])('reads NetSuite\'s %p as %p', (raw, wire) => {
        expect(lib.formatDecimal(lib.parseDecimal(raw), 2)).toBe(wire);
    });

    it.each([[''], ['abc'], ['1.2.3'], [null], [undefined], ['.']])('treats %p as no number', (raw) => {
        expect(lib.parseDecimal(raw)).toBeNull();
    });

    it('refuses an amount it cannot hold exactly rather than rounding it', () => {
        expect(thrownBy(() => lib.parseDecimal('123456789012345678.00')).code).toBe('UNEXPECTED_ERROR');
    });
});

describe('sharing a figure out in proportion', () => {
    it('gives each weight its exact share when the shares come out whole', () => {
        expect(texts(lib.allocate(d('10.00'), [d('3'), d('3'), d('4')]))).toEqual(['3.00', '3.00', '4.00']);
    });

    it('adds up exactly, the leftover cents going to the largest remainders, earlier lines first', () => {
        expect(texts(lib.allocate(d('1.00'), [d('1'), d('1'), d('1')]))).toEqual(['0.34', '0.33', '0.33']);
        expect(texts(lib.allocate(d('0.05'), [d('1'), d('2'), d('2')]))).toEqual(['0.01', '0.02', '0.02']);
    });

    it('keeps signs: a discount line\'s weight is negative and so is its share', () => {
        expect(texts(lib.allocate(d('9.00'), [d('10.00'), d('-1.00')]))).toEqual(['10.00', '-1.00']);
    });

    it('returns the weights themselves when they already add up to the figure (a base-currency refund)', () => {
        const weights = [d('1.23'), d('4.56'), d('0.07')];
        expect(texts(lib.allocate(d('5.86'), weights))).toEqual(['1.23', '4.56', '0.07']);
    });

    it('has nothing to go by when the weights add up to zero', () => {
        expect(lib.allocate(d('5.00'), [d('0'), d('0')])).toBeNull();
        expect(lib.allocate(d('5.00'), [])).toBeNull();
    });

    it('keeps the figure\'s scale: a yen amount is shared out in whole yen', () => {
        expect(texts(lib.allocate(d('100'), [d('1'), d('1'), d('1')])).map((text) => text.replace(/\.00$/, ''))).toEqual(['34', '33', '33']);
    });
});

describe('sign normalisation of item rows', () => {
    it('Given a refunded item line reported negative by NetSuite, Then amount, rate and quantity are positive', () => {
        const line = lib.assembleLine(itemRow(), -1, d('10.00'));
        expect(line).toMatchObject({ line: 1, quantity: '2', rate: '50.00', amount: '100.00', taxAmount: '10.00', sku: 'MUG-BLUE' });
    });

    it('Given a discount row (positive in a refund), Then its amount and rate are negative', () => {
        const line = lib.assembleLine(itemRow({ itemType: 'Discount', quantity: '', rate: '-10.00', amount: '10.00' }), -1, d('-1.00'));
        expect(line).toMatchObject({ quantity: null, rate: '-10.00', amount: '-10.00', taxAmount: '-1.00' });
    });

    it('Given a percentage discount, Then the rate is left out (it is not money)', () => {
        expect(lib.assembleLine(itemRow({ rate: '-10.00%', amount: '5.00' }), -1).rate).toBeNull();
    });

    it('Given an account that reports refunds positive, Then the same line comes out the same', () => {
        const positive = lib.assembleLine(itemRow({ quantity: '2', amount: '100.00' }), 1, d('10.00'));
        expect(positive).toEqual(lib.assembleLine(itemRow(), -1, d('10.00')));
    });
});

describe('assembling a whole refund (legacy tax)', () => {
    const assemble = (parts, config = CONFIG) => lib.assembleRefund({ header: header(), lines: [itemRow()], taxRows: [amountRow('-10.00')], ...parts }, config);

    it('Given a plain credit memo, Then the refund satisfies the contract and the total invariant', () => {
        const { refund, consistent } = assemble({});
        expectContract('NetSuiteRefund', refund);
        expect(consistent).toBe(true);
        expect(refund).toMatchObject({ recordType: 'creditmemo', subtotal: '100.00', taxTotal: '10.00', total: '110.00', discountTotal: '0.00' });
        expect(refund.lines[0].taxAmount).toBe('10.00');
    });

    it('Given a header discount on its own row, Then it is a line of the refund, read from that row, and the total adds up', () => {
        const discountRow = itemRow({ line: '2', lineKey: '104202', itemId: '20', itemName: 'Spring Sale', itemType: 'Discount', quantity: '', rate: '-10.00', amount: '10.00', taxWeight: '1.00' });
        const { refund, consistent } = assemble({ header: header({ total: '-99.00', taxTotalWeight: '-9.00' }), lines: [itemRow(), discountRow], taxRows: [amountRow('-9.00')] });
        expect(consistent).toBe(true);
        expect(refund).toMatchObject({ subtotal: '100.00', discountTotal: '-10.00', taxTotal: '9.00', total: '99.00' });
        expect(refund.lines.map((line) => [line.line, line.itemName, line.amount, line.taxAmount])).toEqual([
            [1, 'Blue Mug', '100.00', '10.00'],
            [2, 'Spring Sale', '-10.00', '-1.00'],
        ]);
    });

    it('Given shipping whose tax is on no item line, Then that tax is the shipping tax', () => {
        const { refund, consistent } = assemble({
            header: header({ total: '-121.00', taxTotalWeight: '-11.00' }),
            taxRows: [amountRow('-11.00')],
            shippingRows: [amountRow('-10.00', '950')],
        });
        expect(consistent).toBe(true);
        expect(refund).toMatchObject({ shippingAmount: '10.00', shippingTax: '1.00', handlingAmount: '0.00', handlingTax: '0.00' });
        expect(refund.lines[0].taxAmount).toBe('10.00');
    });

    it('Given lines whose tax column is in another currency, Then their tax is their share of the tax rows, exactly', () => {
        // EUR refund, base columns in USD at 1.10: the line tax weights are 11.00 and 5.50 USD.
        const rows = [itemRow({ amount: '-100.00', taxWeight: '-11.00' }), itemRow({ line: '2', lineKey: '104202', amount: '-50.00', taxWeight: '-5.50' })];
        const { refund, consistent } = assemble({ header: header({ total: '-165.00', taxTotalWeight: '-16.50', currency: 'EUR' }), lines: rows, taxRows: [amountRow('-15.00')] });
        expect(consistent).toBe(true);
        expect(refund.lines.map((line) => line.taxAmount)).toEqual(['10.00', '5.00']);
        expect(refund.taxTotal).toBe('15.00');
    });

    it('Given tax on no line and no shipping to carry it, Then the refund is reported inconsistent rather than guessed', () => {
        const { consistent, difference } = assemble({ lines: [itemRow({ taxWeight: '' })] });
        expect(consistent).toBe(false);
        expect(difference).toBe('10.00');
    });

    it('Given amounts that do not add up, Then the refund is reported inconsistent with the difference, never balanced by an invented line', () => {
        const { refund, consistent, difference } = assemble({ header: header({ total: '-150.00' }) });
        expect(consistent).toBe(false);
        expect(difference).toBe('40.00');
        expect(refund.lines).toHaveLength(1);
    });

    it('Given group and subtotal rows, Then only lines with money of their own are kept', () => {
        const rows = [
            itemRow({ line: '1', itemType: 'Group', amount: '', taxWeight: '' }),
            itemRow({ line: '2' }),
            itemRow({ line: '3', itemType: 'EndGroup', amount: '-100.00', taxWeight: '' }),
            itemRow({ line: '4', itemType: 'Subtotal', amount: '-100.00', taxWeight: '' }),
        ];
        const { refund, consistent } = assemble({ lines: rows });
        expect(consistent).toBe(true);
        expect(refund.lines.map((line) => line.line)).toEqual([2]);
    });

    it('Given a currency whose ISO code is not set, Then it fails with a message saying where to set it', () => {
        const thrown = thrownBy(() => assemble({ header: header({ currency: 'US Dollar' }) }));
        expect(thrown.code).toBe('UNEXPECTED_ERROR');
        expect(thrown.message).toMatch(/Lists > Accounting > Currencies/);
    });

    it('Given the order id field is otherrefnum, Then a check refund does not report the order id as the check number', () => {
        const cashRefund = header({ typeCode: 'CashRfnd', paymentMethod: 'Check', otherRefNum: '1001', orderValue: '1001' });
        const { refund } = assemble({ header: cashRefund }, { ...CONFIG, orderIdField: 'otherrefnum' });
        expect(refund.paidOut).toEqual({ byNetsuite: true, method: 'check', reference: null });
        expect(refund.bigcommerceOrderId).toBe('1001');
    });
});

describe('assembling a whole refund (SuiteTax)', () => {
    const SUITETAX = { ...CONFIG, suiteTax: true };
    const details = (entries) =>
        lib.summariseTaxDetails(
            [{ lineKey: '104201', reference: 'TD1' }, { lineKey: '104202', reference: 'TD2' }],
            entries.map(([reference, lineType, amount]) => ({ reference, lineType, amount }))
        );

    it('reads each line\'s tax from its tax details and the shipping tax from the SHIPPING detail', () => {
        const rows = [itemRow({ taxWeight: '' }), itemRow({ line: '2', lineKey: '104202', amount: '-50.00', taxWeight: '' })];
        const { refund, consistent } = lib.assembleRefund(
            {
                header: header({ total: '-176.50', taxTotalWeight: '' }),
                lines: rows,
                shippingRows: [amountRow('-10.00', '950')],
                taxDetails: details([['TD1', 'Item', '10.00'], ['TD1', 'Item', '2.50'], ['TD2', 'Item', '3.00'], ['SHIPPING', 'Shipping', '1.00']]),
            },
            SUITETAX
        );
        expect(consistent).toBe(true);
        expect(refund.lines.map((line) => line.taxAmount)).toEqual(['12.50', '3.00']);
        expect(refund).toMatchObject({ taxTotal: '16.50', shippingTax: '1.00', shippingAmount: '10.00' });
    });

    it('knows the shipping detail by its line type when its reference is not SHIPPING', () => {
        const summary = details([['TD1', 'Item', '10.00'], ['X-77', 'Shipping', '1.00'], ['X-78', 'Handling', '0.50']]);
        expect(lib.formatDecimal(summary.shipping, 2)).toBe('1.50');
        expect(lib.formatDecimal(summary.unmatched, 2)).toBe('0.00');
    });

    it('lets a detail that belongs to no line make the refund inconsistent instead of guessing its line', () => {
        const { refund, consistent, difference } = lib.assembleRefund(
            { header: header({ total: '-112.00' }), lines: [itemRow({ taxWeight: '' })], taxDetails: details([['TD1', 'Item', '10.00'], ['TD9', 'Item', '2.00']]) },
            SUITETAX
        );
        expect(consistent).toBe(false);
        expect(difference).toBe('2.00');
        expect(refund.taxTotal).toBe('12.00');
    });

    it('ignores the tax rows and the tax columns a SuiteTax search may still show', () => {
        const { refund, consistent } = lib.assembleRefund(
            { header: header(), lines: [itemRow({ taxWeight: '-99.00' })], taxRows: [amountRow('-77.00')], taxDetails: details([['TD1', 'Item', '10.00']]) },
            SUITETAX
        );
        expect(consistent).toBe(true);
        expect(refund.lines[0].taxAmount).toBe('10.00');
    });
});

describe('the created-from chain', () => {
    const link = (id, parentId, parentTypeCode, parentTranId = `T-${parentId}`) => [id, { id, parentId, parentTypeCode, parentTranId, parentOrderValue: '' }];

    it('climbs credit memo <- return authorization <- invoice <- sales order, and names what to look up next', () => {
        const head = header({ createdFromId: '30', createdFromTypeCode: 'RtnAuth', createdFromTranId: 'RMA-30' });
        expect(lib.nextLinkToLookUp(head, new Map())).toBe('30');
        const links = new Map([link('30', '20', 'CustInvc')]);
        expect(lib.nextLinkToLookUp(head, links)).toBe('20');
        links.set(...link('20', '10', 'SalesOrd'));
        expect(lib.nextLinkToLookUp(head, links)).toBeNull();
        expect(lib.followChain(head, links).map((step) => `${step.typeCode} ${step.id}`)).toEqual(['RtnAuth 30', 'CustInvc 20', 'SalesOrd 10']);
    });

    it.each([
        ['CustCred', 'CustInvc', true],
        ['CustCred', 'RtnAuth', true],
        ['CustCred', 'CashSale', false],
        ['CashRfnd', 'CashSale', true],
        ['CashRfnd', 'RtnAuth', true],
        ['CashRfnd', 'CustInvc', false],
        ['RtnAuth', 'CustInvc', true],
        ['RtnAuth', 'CashSale', true],
        ['RtnAuth', 'SalesOrd', true],
        ['CustInvc', 'SalesOrd', true],
        ['CustInvc', 'RtnAuth', false],
        ['SalesOrd', 'SalesOrd', false],
    ])('follows a link from %s to %s: %s', (child, parent, followed) => {
        expect(lib.canBeCreatedFrom(child, parent)).toBe(followed);
    });

    it('stops at a link of a kind it does not follow: the record is not taken for the sales order', () => {
        const head = header({ createdFromId: '30', createdFromTypeCode: 'CustInvc' });
        const links = new Map([link('30', '20', 'RtnAuth')]);
        expect(lib.followChain(head, links).map((step) => step.id)).toEqual(['30']);
        expect(lib.nextLinkToLookUp(head, links)).toBeNull();
    });

    it('is bounded: never more than three links above the refund', () => {
        const head = header({ createdFromId: '40', createdFromTypeCode: 'RtnAuth' });
        // A malformed account: a return authorization created from an invoice created from ... an invoice.
        const links = new Map([link('40', '30', 'CustInvc'), link('30', '20', 'SalesOrd')]);
        expect(lib.followChain(head, links)).toHaveLength(3);
        expect(lib.MAX_CHAIN_LINKS).toBe(3);
    });

    it('reads the order id nearest the refund first and reports the sales order only when it is one', () => {
        const head = header({ createdFromId: '30', createdFromTypeCode: 'RtnAuth', createdFromTranId: 'RMA-30', createdFromOrderValue: '' });
        const chain = [
            { id: '30', typeCode: 'RtnAuth', tranId: 'RMA-30', orderValue: '' },
            { id: '20', typeCode: 'CashSale', tranId: 'CS-20', orderValue: '' },
            { id: '10', typeCode: 'SalesOrd', tranId: 'SO-10', orderValue: '1001' },
        ];
        const { refund } = lib.assembleRefund({ header: head, lines: [itemRow()], taxRows: [amountRow('-10.00')], chain }, CONFIG);
        expect(refund).toMatchObject({
            bigcommerceOrderId: '1001',
            orderIdSource: 'custbody_fa_channel_order on SO-10',
            createdFrom: { id: '30', type: 'returnauthorization', tranId: 'RMA-30' },
            salesOrder: { id: '10', type: 'salesorder', tranId: 'SO-10' },
        });
        const { refund: unfinished } = lib.assembleRefund({ header: head, lines: [itemRow()], taxRows: [amountRow('-10.00')], chain: chain.slice(0, 2) }, CONFIG);
        expect(unfinished.salesOrder).toBeNull();
    });
});

describe('BigCommerce order id resolution', () => {
    const refundRef = { id: '1042', type: 'creditmemo', tranId: 'CM-1042' };
    const invoiceRef = { id: '900', type: 'invoice', tranId: 'INV-900' };
    const orderRef = { id: '800', type: 'salesorder', tranId: 'SO-800' };

    it('reads the refund first, then the record it was created from, then the sales order', () => {
        const hops = (own, invoice, order) => [
            { ref: refundRef, value: own },
            { ref: invoiceRef, value: invoice },
            { ref: orderRef, value: order },
        ];
        expect(lib.resolveOrderId('custbody_x', hops('1', '2', '3'))).toEqual({ orderId: '1', source: 'custbody_x on CM-1042' });
        expect(lib.resolveOrderId('custbody_x', hops('', ' 2 ', '3'))).toEqual({ orderId: '2', source: 'custbody_x on INV-900' });
        expect(lib.resolveOrderId('custbody_x', hops('', '', '3'))).toEqual({ orderId: '3', source: 'custbody_x on SO-800' });
    });

    it('answers nothing when no hop carries it, or when no field is configured', () => {
        expect(lib.resolveOrderId('custbody_x', [{ ref: refundRef, value: '' }, { ref: null, value: '5' }])).toEqual({ orderId: null, source: null });
        expect(lib.resolveOrderId(null, [{ ref: refundRef, value: '1' }])).toEqual({ orderId: null, source: null });
    });
});

describe('the paid-out rule', () => {
    it('A cash refund with a payment processing reference was paid by the gateway', () => {
        expect(lib.paidOutRule({ recordType: 'cashrefund', pnRefNum: 'A1B2C3', paymentMethod: 'VISA' })).toEqual({
            byNetsuite: true,
            method: 'payment_gateway',
            reference: 'A1B2C3',
        });
    });

    it('A cash refund paid by check reports the check number', () => {
        expect(lib.paidOutRule({ recordType: 'cashrefund', paymentMethod: 'Cheque', checkNumber: '5521' })).toEqual({ byNetsuite: true, method: 'check', reference: '5521' });
    });

    it('A card cash refund without a gateway reference was not paid out by NetSuite', () => {
        expect(lib.paidOutRule({ recordType: 'cashrefund', paymentMethod: 'VISA', pnRefNum: '' }).byNetsuite).toBe(false);
    });

    it('A credit memo paid by customer refunds names them', () => {
        const facts = { recordType: 'creditmemo', customerRefunds: [{ id: '7', tranId: 'CRF-7' }, { id: '8', tranId: '' }, { id: '7', tranId: 'CRF-7' }] };
        expect(lib.paidOutRule(facts)).toEqual({ byNetsuite: true, method: 'customer_refund', reference: 'CRF-7, customer refund 8' });
    });

    it('An open credit memo was not paid out', () => {
        expect(lib.paidOutRule({ recordType: 'creditmemo', customerRefunds: [] })).toEqual({ byNetsuite: false, method: null, reference: null });
    });
});

describe('request validation', () => {
    it('fills a page request\'s defaults from the deployment', () => {
        expect(lib.validatePageRequest({ action: 'page' }, CONFIG)).toEqual({ searchId: 'customsearch_rs_refunds', afterId: '0', modifiedSince: null, pageSize: 500 });
    });

    it('takes an empty or blank searchId for the deployment\'s saved search, and needs one there', () => {
        [{ searchId: '' }, { searchId: '  ' }].forEach((body) => {
            expect(lib.validatePageRequest(body, CONFIG).searchId).toBe('customsearch_rs_refunds');
            expect(lib.validateFindRequest({ ...body, ids: ['1'] }, CONFIG).searchId).toBe('customsearch_rs_refunds');
        });
        const unset = { ...CONFIG, savedSearchId: null };
        expect(thrownBy(() => lib.validatePageRequest({}, unset))).toMatchObject({ code: 'CONFIGURATION_ERROR', details: { parameter: 'custscript_rs_saved_search' } });
        // a request with problems of its own hears about those first
        expect(thrownBy(() => lib.validatePageRequest({ pageSize: 2 }, unset)).code).toBe('INVALID_REQUEST');
    });

    it('lists every problem of a page request at once', () => {
        const thrown = thrownBy(() => lib.validatePageRequest({ searchId: 7, afterId: '12a', pageSize: 4, modifiedSince: '2024-04-15', extra: 1 }, CONFIG));
        expect(thrown.code).toBe('INVALID_REQUEST');
        expect(thrown.details.problems.map((problem) => problem.field).sort()).toEqual(['afterId', 'extra', 'modifiedSince', 'pageSize', 'searchId']);
    });

    it('needs at least one value to find, and drops repeats', () => {
        expect(thrownBy(() => lib.validateFindRequest({ searchId: 's' }, CONFIG)).code).toBe('INVALID_REQUEST');
        expect(lib.validateFindRequest({ searchId: 's', ids: ['1', '1'], orderIds: [' 1001 ', '1001'] }, CONFIG)).toEqual({
            searchId: 's',
            ids: ['1'],
            tranIds: [],
            orderIds: ['1001'],
        });
    });

    it('takes the reason code and what to do with FAILED and HELD, and refuses a reason code of another shape', () => {
        const base = { id: '1', recordType: 'creditmemo', status: 'FAILED', syncedAt: '2024-04-15T10:00:00Z' };
        expect(lib.validateWriteBackRequest({ ...base, reasonCode: 'ORDER_NOT_FOUND', whatToDo: 'Check the order id.' })).toMatchObject({
            reasonCode: 'ORDER_NOT_FOUND',
            whatToDo: 'Check the order id.',
        });
        expect(lib.validateWriteBackRequest(base)).toMatchObject({ reasonCode: null, whatToDo: null });
        expect(thrownBy(() => lib.validateWriteBackRequest({ ...base, reasonCode: 'order not found' })).details.problems[0].field).toBe('reasonCode');
        expect(thrownBy(() => lib.validateWriteBackRequest({ ...base, whatToDo: 'x'.repeat(1001) })).details.problems[0].field).toBe('whatToDo');
    });

    it('counts characters, not UTF-16 units, when limiting a write-back message', () => {
        const base = { id: '1', recordType: 'creditmemo', status: 'SYNCED', syncedAt: '2024-04-15T10:00:00Z' };
        expect(lib.validateWriteBackRequest({ ...base, message: '💶'.repeat(300) }).message).toHaveLength(600);
        expect(thrownBy(() => lib.validateWriteBackRequest({ ...base, message: 'x'.repeat(301) })).code).toBe('INVALID_REQUEST');
    });

    it('rejects another contract version before looking at fields', () => {
        const thrown = thrownBy(() => lib.checkEnvelope({ version: '2', whatever: true }, 'POST'));
        expect(thrown.code).toBe('UNSUPPORTED_VERSION');
        expect(thrown.details).toEqual({ supportedVersions: ['1'], requestedVersion: '2' });
    });

    it('sends a write-back over POST back to PUT', () => {
        expect(thrownBy(() => lib.checkEnvelope({ action: 'writeBack' }, 'POST')).message).toMatch(/Send "writeBack" with PUT/);
    });

    // The script's own validation and the shared schema must agree on what a valid request is.
    const requests = [
        ['PageRequest', { searchId: 'customsearch_rs_refunds' }, true],
        ['PageRequest', {}, true],
        ['PageRequest', { searchId: '' }, true],
        ['PageRequest', { searchId: null }, false],
        ['PageRequest', { action: 'page', version: '1', searchId: 'x', afterId: '1042', modifiedSince: '2024-04-15T10:00:00+02:00', pageSize: 1000 }, true],
        ['PageRequest', { searchId: 'x', pageSize: 1001 }, false],
        ['PageRequest', { searchId: 'x', afterId: '-1' }, false],
        ['PageRequest', { searchId: 'x', modifiedSince: '2024-04-15T10:00:00' }, false],
        ['PageRequest', { searchId: 'x', cursor: 'abc' }, false],
        ['FindRequest', { action: 'find', searchId: 'x', ids: ['1'], tranIds: ['CM-1'], orderIds: ['1001'] }, true],
        ['FindRequest', { action: 'find', ids: ['1'] }, true],
        ['FindRequest', { action: 'find', searchId: 'x', ids: ['CM-1'] }, false],
        ['FindRequest', { action: 'find', searchId: 'x', orderIds: Array.from({ length: 101 }, (unused, index) => String(index)) }, false],
        ['WriteBackRequest', { action: 'writeBack', id: '1', recordType: 'cashrefund', status: 'SYNCED', syncedAt: '2024-04-15T10:00:00Z' }, true],
        ['WriteBackRequest', { action: 'writeBack', id: '1', recordType: 'cashrefund', bigcommerceRefundId: '55', status: 'FAILED', message: null, syncedAt: '2024-04-15T10:00:00.123Z' }, true],
        ['WriteBackRequest', { action: 'writeBack', id: '1', recordType: 'invoice', status: 'SYNCED', syncedAt: '2024-04-15T10:00:00Z' }, false],
        ['WriteBackRequest', { action: 'writeBack', id: '1', recordType: 'cashrefund', status: 'S'.repeat(41), syncedAt: '2024-04-15T10:00:00Z' }, false],
        ['WriteBackRequest', { action: 'writeBack', id: '1', recordType: 'cashrefund', status: 'SYNCED' }, false],
        ['WriteBackRequest', { action: 'writeBack', id: '1', recordType: 'cashrefund', status: 'HELD', reasonCode: 'AMOUNT_MISMATCH', message: 'off by 0.02', whatToDo: 'Compare the figures.', syncedAt: '2024-04-15T10:00:00Z' }, true],
        ['WriteBackRequest', { action: 'writeBack', id: '1', recordType: 'cashrefund', status: 'HELD', reasonCode: 'amount mismatch', syncedAt: '2024-04-15T10:00:00Z' }, false],
        ['WriteBackRequest', { action: 'writeBack', id: '1', recordType: 'cashrefund', status: 'HELD', whatToDo: 'x'.repeat(1001), syncedAt: '2024-04-15T10:00:00Z' }, false],
    ];
    const validators = {
        PageRequest: (body) => lib.validatePageRequest(body, CONFIG),
        FindRequest: (body) => lib.validateFindRequest(body, CONFIG),
        WriteBackRequest: (body) => lib.validateWriteBackRequest(body),
    };
    it.each(requests)('agrees with the schema on %s %j (valid: %s)', (definition, body, valid) => {
        expect(contractErrors(definition, body).length === 0).toBe(valid);
        let accepted = true;
        try {
            lib.checkEnvelope(body, definition === 'WriteBackRequest' ? 'PUT' : 'POST');
            validators[definition](body);
        } catch (thrown) {
            expect(thrown.code).toBe('INVALID_REQUEST');
            accepted = false;
        }
        expect(accepted).toBe(valid);
    });
});

describe('deployment configuration', () => {
    const reader = (values) => (name) => values[name];

    it('uses itemid for the SKU and 500 per page when the parameters are empty', () => {
        const config = lib.readConfig(reader({ custscript_rs_saved_search: 'customsearch_rs_refunds' }));
        expect(config).toMatchObject({ skuField: 'itemid', defaultPageSize: 500, orderIdField: null, lineIdField: null });
    });

    it('names every misconfigured parameter and where to fix it', () => {
        const thrown = thrownBy(() => lib.readConfig(reader({ custscript_rs_order_id_field: 'custbody fa order', custscript_rs_default_page_size: '2000' })));
        expect(thrown.code).toBe('CONFIGURATION_ERROR');
        expect(thrown.message).toMatch(/BigCommerce order id field.*custscript_rs_order_id_field.*Default page size/);
        expect(thrown.message).toMatch(/Script Deployments/);
    });
});

describe('search filters', () => {
    it('keeps the saved search\'s criteria as one group and adds refunds-only, keyset and last-modified terms', () => {
        const saved = [['mainline', 'is', 'F'], 'OR', ['custbody_flag', 'is', 'T']];
        expect(lib.combineFilters(saved, lib.pageFilterTerms('1042', '4/15/2024 10:00 am'))).toEqual([
            saved,
            'AND',
            ['type', 'anyof', ['CashRfnd', 'CustCred']],
            'AND',
            ['internalidnumber', 'greaterthan', '1042'],
            'AND',
            ['lastmodifieddate', 'onorafter', '4/15/2024 10:00 am'],
        ]);
    });

    it('matches order ids with the operator each kind of field needs', () => {
        expect(lib.orderIdFilter('externalid', ['1', '2'])).toEqual(['externalid', 'anyof', ['1', '2']]);
        expect(lib.orderIdFilter('otherrefnum', ['1', '2'])).toEqual([['otherrefnum', 'equalto', '1'], 'OR', ['otherrefnum', 'equalto', '2']]);
        expect(lib.orderIdFilter('custbody_x', ['1'])).toEqual([['custbody_x', 'is', '1']]);
    });
});

describe('errors as the contract\'s ErrorResponse', () => {
    it.each([
        [{ name: 'SSS_INVALID_SRCH_COL', message: 'invalid column custbody_nope' }, 'CONFIGURATION_ERROR', /deployment parameters/],
        [{ name: 'INSUFFICIENT_PERMISSION', message: 'no access' }, 'UNEXPECTED_ERROR', /lacks a permission/],
        [{ name: 'SSS_USAGE_LIMIT_EXCEEDED', message: 'limit' }, 'USAGE_LIMIT', /usage limit/],
        [{ name: 'UNEXPECTED_ERROR', message: 'boom' }, 'UNEXPECTED_ERROR', /NetSuite raised UNEXPECTED_ERROR: boom/],
        [new lib.RefundSyncError('RECORD_NOT_FOUND', 'gone', { id: '1' }), 'RECORD_NOT_FOUND', /gone/],
    ])('answers %j with %s', (thrown, code, message) => {
        const response = expectContract('ErrorResponse', lib.describeError(thrown, CONFIG));
        expect(response.error.code).toBe(code);
        expect(response.error.message).toMatch(message);
    });
});
