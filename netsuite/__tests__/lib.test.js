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
    taxTotal: '10.00',
    shipping: '',
    discount: '',
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
    itemId: '11',
    itemName: 'Blue Mug',
    itemType: 'InvtPart',
    sku: 'MUG-BLUE',
    description: 'Blue mug, 12 oz',
    quantity: '-2',
    rate: '50.00',
    amount: '-100.00',
    taxAmount: '-10.00',
    ...overrides,
});

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

describe('sign normalisation of item rows', () => {
    it('Given a refunded item line reported negative by NetSuite, Then amount, tax, rate and quantity are positive', () => {
        const line = lib.assembleLine(itemRow(), -1);
        expect(line).toMatchObject({ line: 1, quantity: '2', rate: '50.00', amount: '100.00', taxAmount: '10.00', sku: 'MUG-BLUE' });
    });

    it('Given a discount row (positive in a refund), Then its amount, rate and tax are negative', () => {
        const line = lib.assembleLine(itemRow({ itemType: 'Discount', quantity: '', rate: '-10.00', amount: '10.00', taxAmount: '1.00' }), -1);
        expect(line).toMatchObject({ quantity: null, rate: '-10.00', amount: '-10.00', taxAmount: '-1.00' });
    });

    it('Given a percentage discount, Then the rate is left out (it is not money)', () => {
        expect(lib.assembleLine(itemRow({ rate: '-10.00%', amount: '5.00' }), -1).rate).toBeNull();
    });

    it('Given an account that reports refunds positive, Then the same line comes out the same', () => {
        const positive = lib.assembleLine(itemRow({ quantity: '2', amount: '100.00', taxAmount: '10.00' }), 1);
        expect(positive).toEqual(lib.assembleLine(itemRow(), -1));
    });
});

describe('assembling a whole refund', () => {
    it('Given a plain credit memo, Then the refund satisfies the contract and the total invariant', () => {
        const { refund, consistent } = lib.assembleRefund({ header: header(), lines: [itemRow()] }, CONFIG);
        expectContract('NetSuiteRefund', refund);
        expect(consistent).toBe(true);
        expect(refund).toMatchObject({ recordType: 'creditmemo', subtotal: '100.00', taxTotal: '10.00', total: '110.00', discountTotal: '0.00' });
    });

    it('Given a header discount that is not among the item rows, Then it becomes line 0 "Discount" and the total adds up', () => {
        const { refund, consistent } = lib.assembleRefund(
            { header: header({ total: '-100.00', discount: '-10.00' }), lines: [itemRow()] },
            CONFIG
        );
        expect(consistent).toBe(true);
        expect(refund.discountTotal).toBe('-10.00');
        expect(refund.lines[0]).toMatchObject({ line: 0, itemId: '0', itemName: 'Discount', itemType: 'Discount', amount: '-10.00', taxAmount: '0.00' });
        expect(refund.lines).toHaveLength(2);
    });

    it('Given a header discount NetSuite also lists as an item row, Then no second discount line is added', () => {
        const rows = [itemRow(), itemRow({ line: '2', itemId: '20', itemName: 'Spring Sale', itemType: 'Discount', quantity: '', rate: '-10.00', amount: '10.00', taxAmount: '0.00' })];
        const { refund, consistent } = lib.assembleRefund({ header: header({ total: '-100.00', discount: '-10.00' }), lines: rows }, CONFIG);
        expect(consistent).toBe(true);
        expect(refund.lines.map((line) => line.itemName)).toEqual(['Blue Mug', 'Spring Sale']);
    });

    it('Given shipping whose tax is on no item line, Then that tax is the shipping tax', () => {
        const { refund, consistent } = lib.assembleRefund(
            { header: header({ total: '-121.00', taxTotal: '11.00', shipping: '10.00' }), lines: [itemRow()] },
            CONFIG
        );
        expect(consistent).toBe(true);
        expect(refund).toMatchObject({ shippingAmount: '10.00', shippingTax: '1.00', handlingAmount: '0.00', handlingTax: '0.00' });
    });

    it('Given a taxable header discount and no shipping, Then the discount line carries the tax the items do not', () => {
        // Items 100 + 10 tax computed before the discount; the discount takes 10 and 1 of tax.
        const { refund, consistent } = lib.assembleRefund(
            { header: header({ total: '-99.00', taxTotal: '9.00', discount: '-10.00' }), lines: [itemRow()] },
            CONFIG
        );
        expect(consistent).toBe(true);
        expect(refund.lines[0]).toMatchObject({ itemType: 'Discount', amount: '-10.00', taxAmount: '-1.00' });
        expect(refund.shippingTax).toBe('0.00');
    });

    it('Given amounts that do not add up, Then the refund is reported inconsistent with the difference, never balanced by an invented line', () => {
        const { refund, consistent, difference } = lib.assembleRefund({ header: header({ total: '-150.00' }), lines: [itemRow()] }, CONFIG);
        expect(consistent).toBe(false);
        expect(difference).toBe('40.00');
        expect(refund.lines).toHaveLength(1);
    });

    it('Given group and subtotal rows, Then only lines with money of their own are kept', () => {
        const rows = [
            itemRow({ line: '1', itemType: 'Group', amount: '', taxAmount: '' }),
            itemRow({ line: '2' }),
            itemRow({ line: '3', itemType: 'EndGroup', amount: '-100.00', taxAmount: '' }),
            itemRow({ line: '4', itemType: 'Subtotal', amount: '-100.00', taxAmount: '' }),
        ];
        const { refund, consistent } = lib.assembleRefund({ header: header(), lines: rows }, CONFIG);
        expect(consistent).toBe(true);
        expect(refund.lines.map((line) => line.line)).toEqual([2]);
    });

    it('Given a currency whose ISO code is not set, Then it fails with a message saying where to set it', () => {
        const thrown = thrownBy(() => lib.assembleRefund({ header: header({ currency: 'US Dollar' }), lines: [itemRow()] }, CONFIG));
        expect(thrown.code).toBe('UNEXPECTED_ERROR');
        expect(thrown.message).toMatch(/Lists > Accounting > Currencies/);
    });

    it('Given the order id field is otherrefnum, Then a check refund does not report the order id as the check number', () => {
        const cashRefund = header({ typeCode: 'CashRfnd', paymentMethod: 'Check', otherRefNum: '1001', orderValue: '1001' });
        const { refund } = lib.assembleRefund({ header: cashRefund, lines: [itemRow()] }, { ...CONFIG, orderIdField: 'otherrefnum' });
        expect(refund.paidOut).toEqual({ byNetsuite: true, method: 'check', reference: null });
        expect(refund.bigcommerceOrderId).toBe('1001');
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
