/**
 * POST {"action": "page"}: keyset paging over the saved search, whole refunds gathered in a few
 * batched searches, the two-hop order-id lookup, the paid-out rule and origin, and the
 * governance cut-off. Every response is validated against the contract by restletClient.
 */
import search from 'N/search';
import record from 'N/record';
import lib from 'SuiteScripts/refund_sync/rs_refund_export_lib';
import { addBilled, addCreditedOrder, addCustomerRefund, addRefund, addSalesOrder, ITEMS, LINE_LEVEL_SEARCH, storeAccount } from './support/fixtures';
import { pageThrough, post, rawPost } from './support/restletClient';
import { READING_VALUES } from './support/fakeNetSuite';

jest.mock('N/search');
jest.mock('N/record');
jest.mock('N/runtime');
jest.mock('N/format');
jest.mock('N/log');
jest.mock('N/error');

const THREE_LINES = [
    { item: ITEMS.mug, quantity: '2', rate: '10.00', amount: '20.00', tax: '2.00', lineId: '501' },
    { item: ITEMS.shirt, quantity: '1', rate: '30.00', amount: '30.00', tax: '3.00', lineId: '502' },
    { item: ITEMS.wrap, quantity: '1', rate: '5.00', amount: '5.00' },
];

let account;

beforeEach(() => {
    jest.clearAllMocks();
    account = storeAccount();
});

const ids = (responses) => responses.flatMap((response) => response.refunds.map((refund) => refund.id));
const range = (from, count) => Array.from({ length: count }, (unused, index) => from + index);

describe('keyset paging over a line-level saved search', () => {
    beforeEach(() => {
        // Twelve refunds of three lines each, with orders and invoices interleaved among their ids.
        range(101, 12).forEach((id) => addRefund(account, { id: id * 10, typeCode: id % 2 ? 'CustCred' : 'CashRfnd', lines: THREE_LINES }));
        range(101, 12).forEach((id) => addSalesOrder(account, { id: id * 10 + 1, orderId: String(id) }));
    });

    it('Given 12 refunds whose search rows repeat per line, When paged 5 at a time, Then 3 calls return each refund once and whole, in id order', () => {
        const responses = pageThrough({ searchId: LINE_LEVEL_SEARCH, pageSize: 5 });

        expect(responses).toHaveLength(3);
        expect(ids(responses)).toEqual(range(101, 12).map((id) => String(id * 10)));
        expect(responses.map((response) => response.paging)).toEqual([
            { afterId: '0', lastId: '1050', pageSize: 5, count: 5, hasMore: true, truncatedByGovernance: false },
            { afterId: '1050', lastId: '1100', pageSize: 5, count: 5, hasMore: true, truncatedByGovernance: false },
            { afterId: '1100', lastId: '1120', pageSize: 5, count: 2, hasMore: false, truncatedByGovernance: false },
        ]);
        responses.flatMap((response) => response.refunds).forEach((refund) => {
            expect(refund.lines.map((line) => line.itemName)).toEqual(['Blue Mug', 'Red Shirt L', 'Gift Wrap']);
            expect(refund.total).toBe('60.00');
        });
        expect(record.load).not.toHaveBeenCalled();
    });

    it('When a page is asked for, Then the saved search only selects ids: its criteria plus refunds-only, keyset and last-modified terms, grouped by internal id ascending', () => {
        post({ action: 'page', searchId: LINE_LEVEL_SEARCH, afterId: '1050', modifiedSince: '2024-04-15T10:00:00Z', pageSize: 5 });

        const [selection] = account.createdSearches;
        expect(selection.type).toBe('transaction');
        expect(selection.filters).toEqual([
            account.savedSearches.get(LINE_LEVEL_SEARCH).filterExpression,
            'AND',
            ['type', 'anyof', ['CashRfnd', 'CustCred']],
            'AND',
            ['internalidnumber', 'greaterthan', '1050'],
            'AND',
            ['lastmodifieddate', 'onorafter', '4/15/2024 10:00 am'],
        ]);
        expect(selection.columns).toEqual([{ name: 'internalid', summary: 'GROUP', sort: 'ASC' }]);
    });

    it('Given refunds change between calls, Then later pages neither skip nor repeat refunds (keyset, not offset)', () => {
        const first = post({ action: 'page', searchId: LINE_LEVEL_SEARCH, pageSize: 5 });
        // A refund already delivered leaves the search, and one not yet delivered is edited.
        account.transaction(1020).fields.custbody_rs_exclude = true;
        account.transaction(1070).lastModified = '2024-04-20T08:00:00Z';
        const rest = pageThrough({ searchId: LINE_LEVEL_SEARCH, pageSize: 5, afterId: first.paging.lastId });

        expect(ids([first]).concat(ids(rest))).toEqual(range(101, 12).map((id) => String(id * 10)));
    });

    it('Given N refunds, Then paging takes exactly ceil(N / pageSize) calls: hasMore comes from the search count', () => {
        expect(pageThrough({ searchId: LINE_LEVEL_SEARCH, pageSize: 6 })).toHaveLength(2);
        expect(pageThrough({ searchId: LINE_LEVEL_SEARCH, pageSize: 12 })).toHaveLength(1);
    });

    it('Given modifiedSince, Then only refunds modified on or after it come back, the starting minute included', () => {
        account.transaction(1030).lastModified = '2024-04-20T09:15:30Z';
        account.transaction(1080).lastModified = '2024-04-21T00:00:00Z';
        const responses = pageThrough({ searchId: LINE_LEVEL_SEARCH, pageSize: 5, modifiedSince: '2024-04-20T09:15:45Z' });
        expect(ids(responses)).toEqual(['1030', '1080']);
        expect(responses[0].refunds[0].lastModified).toBe('2024-04-20T09:15:00Z');
    });

    // A date-time string is in the user's time zone (GMT, as the setup requires) in filters and columns;
    // server-side N/format may read it in Pacific time, with daylight saving time, unless told the zone.
    it.each(READING_VALUES.serverFormatZone)('Under the %s reading of N/format, modifiedSince and lastModified name the same instants', (zone) => {
        account.readings = { ...account.readings, serverFormatZone: zone };
        account.transaction(1030).lastModified = '2024-07-20T09:15:30Z'; // summer: Pacific is UTC-7
        account.transaction(1040).lastModified = '2024-07-20T09:14:00Z';
        account.transaction(1080).lastModified = '2024-12-21T00:00:00Z'; // winter: UTC-8
        const responses = pageThrough({ searchId: LINE_LEVEL_SEARCH, pageSize: 5, modifiedSince: '2024-07-20T09:15:45Z' });
        expect(ids(responses)).toEqual(['1030', '1080']);
        expect(responses[0].refunds.map((refund) => refund.lastModified)).toEqual(['2024-07-20T09:15:00Z', '2024-12-21T00:00:00Z']);
    });

    it('Given the page size is left out, Then the deployment\'s default page size applies', () => {
        account.parameters.custscript_rs_default_page_size = '10';
        expect(post({ action: 'page', searchId: LINE_LEVEL_SEARCH }).paging).toMatchObject({ pageSize: 10, count: 10, hasMore: true });
    });

    it('Given the searchId is left empty, Then the deployment\'s saved search is used', () => {
        const response = post({ action: 'page', searchId: '', pageSize: 5 });
        expect(search.load).toHaveBeenCalledWith({ id: lib.DEFAULT_SAVED_SEARCH_ID });
        expect(response.refunds).toHaveLength(5);
    });

    it('Given a JSON text body, Then the answer is JSON text too', () => {
        const answer = rawPost(JSON.stringify({ action: 'page', searchId: LINE_LEVEL_SEARCH, pageSize: 5 }));
        expect(typeof answer).toBe('string');
        expect(JSON.parse(answer).paging.count).toBe(5);
    });
});

describe('gathering whole refunds with few searches', () => {
    it('Given 300 refunds of 5 lines in one page, Then they are gathered in two batches of five searches each, lines spanning several result pages', () => {
        const fiveLines = range(1, 5).map((index) => ({ item: ITEMS.mug, quantity: String(index), rate: '1.00', amount: `${index}.00` }));
        range(1, 300).forEach((id) => addRefund(account, { id, lines: fiveLines }));

        const response = post({ action: 'page', searchId: lib.DEFAULT_SAVED_SEARCH_ID, pageSize: 300 });

        expect(response.paging).toMatchObject({ count: 300, hasMore: false, lastId: '300' });
        response.refunds.forEach((refund) => expect(refund.lines.map((line) => line.quantity)).toEqual(['1', '2', '3', '4', '5']));
        // 1 selection + 2 batches x (header, lines, shipping rows, tax rows, customer refunds);
        // nothing was created from another record, so no created-from search.
        expect(account.createdSearches).toHaveLength(11);
        expect(search.load).toHaveBeenCalledTimes(1);
        expect(search.lookupFields).not.toHaveBeenCalled();
        expect(record.load).not.toHaveBeenCalled();
    });
});

describe('the BigCommerce order id and the created-from chain', () => {
    beforeEach(() => {
        addCreditedOrder(account, { orderId: '1001', soId: 301, invoiceId: 401, creditMemoId: 501 });
        addSalesOrder(account, { id: 302, orderId: '1002' });
        addBilled(account, { id: 402, typeCode: 'CashSale', from: 302 });
        addRefund(account, { id: 502, typeCode: 'CashRfnd', from: 402 });
        addSalesOrder(account, { id: 303, orderId: '1003' });
        addBilled(account, { id: 403, typeCode: 'RtnAuth', from: 303 });
        addRefund(account, { id: 503, from: 403 });
        addRefund(account, { id: 504, from: 401, fields: { custbody_fa_channel_order: '2001' } });
        addBilled(account, { id: 405, typeCode: 'CustInvc', fields: { custbody_fa_channel_order: '3001' } });
        addRefund(account, { id: 505, from: 405 });
        addRefund(account, { id: 506 });
    });

    it('reads the id on the refund, else its created-from record, else that record\'s sales order, and says where', () => {
        const refunds = post({ action: 'page', searchId: lib.DEFAULT_SAVED_SEARCH_ID, pageSize: 10 }).refunds;
        const summary = Object.fromEntries(refunds.map((refund) => [refund.id, [refund.bigcommerceOrderId, refund.orderIdSource]]));
        expect(summary).toEqual({
            501: ['1001', 'custbody_fa_channel_order on SO-301'],
            502: ['1002', 'custbody_fa_channel_order on SO-302'],
            503: ['1003', 'custbody_fa_channel_order on SO-303'],
            504: ['2001', 'custbody_fa_channel_order on CM-504'],
            505: ['3001', 'custbody_fa_channel_order on INV-405'],
            506: [null, null],
        });
        expect(refunds[0]).toMatchObject({
            createdFrom: { id: '401', type: 'invoice', tranId: 'INV-401' },
            salesOrder: { id: '301', type: 'salesorder', tranId: 'SO-301' },
        });
        expect(refunds[1].createdFrom.type).toBe('cashsale');
        expect(refunds[2].createdFrom.type).toBe('returnauthorization');
        expect(refunds[5]).toMatchObject({ createdFrom: null, salesOrder: null });
    });

    it('climbs the second hop with one search for the whole page, not one per refund', () => {
        post({ action: 'page', searchId: lib.DEFAULT_SAVED_SEARCH_ID, pageSize: 10 });
        const hops = account.searchesWithColumn('type', 'createdfrom').filter((created) => created.columns.some((column) => column.name === 'createdfrom' && !column.join));
        // The header search joins the first hop; one more search climbs from the billed records.
        const hopSearches = hops.filter((created) => JSON.stringify(created.filters).includes('"401"'));
        expect(hopSearches).toHaveLength(1);
        expect(hopSearches[0].filters[0]).toEqual(['internalid', 'anyof', ['401', '402', '403', '405']]);
    });
});

describe('paid out, origin and configured fields', () => {
    it('reports gateway, check and customer-refund payouts, origin markers and the configured line fields', () => {
        account.addBodyField('custbody_bc_refund_marker');
        account.addColumnField('custcol_bc_product_id');
        Object.assign(account.parameters, {
            custscript_rs_loop_guard_field: 'custbody_bc_refund_marker',
            custscript_rs_sku_field: 'custitem_bc_sku',
            custscript_rs_product_id_field: 'custcol_bc_product_id',
        });
        addRefund(account, { id: 601, typeCode: 'CashRfnd', paymentMethod: 'VISA', pnRefNum: 'PN-7731' });
        addRefund(account, { id: 602, typeCode: 'CashRfnd', paymentMethod: 'Check', otherRefNum: '5521' });
        addRefund(account, { id: 603, typeCode: 'CashRfnd', paymentMethod: 'VISA' });
        addRefund(account, { id: 604, externalId: 'bc-refund-88', source: 'Web Services', fields: { custbody_bc_refund_marker: '88' } });
        addCustomerRefund(account, { id: 700, appliedTo: [604] });
        addRefund(account, { id: 605 });
        addCustomerRefund(account, { id: 701, appliedTo: [605], voided: true });
        account.transaction(601).lines[0].fields.custcol_bc_product_id = '77';

        const refunds = post({ action: 'page', searchId: lib.DEFAULT_SAVED_SEARCH_ID, pageSize: 10 }).refunds;
        const byId = Object.fromEntries(refunds.map((refund) => [refund.id, refund]));

        expect(byId[601].paidOut).toEqual({ byNetsuite: true, method: 'payment_gateway', reference: 'PN-7731' });
        expect(byId[602].paidOut).toEqual({ byNetsuite: true, method: 'check', reference: '5521' });
        expect(byId[603].paidOut).toEqual({ byNetsuite: false, method: null, reference: null });
        expect(byId[604].paidOut).toEqual({ byNetsuite: true, method: 'customer_refund', reference: 'CRF-700' });
        expect(byId[605].paidOut.byNetsuite).toBe(false);
        expect(byId[604].origin).toEqual({ externalId: 'bc-refund-88', source: 'Web Services', channelRefundId: '88' });
        expect(byId[601].lines[0]).toMatchObject({ sku: 'MUG-BLUE', bigcommerceProductId: '77', bigcommerceLineId: null });
    });

    it('reads header figures: dates in ISO form, currency code, customer, memo, shipping and header discount', () => {
        addRefund(account, {
            id: 610,
            tranDate: '2024-02-29',
            lastModified: '2024-03-01T23:59:10Z',
            currency: 'EUR',
            memo: 'Damaged in transit',
            entity: { id: 9, name: 'Max Muster' },
            lines: [{ item: ITEMS.mug, quantity: '3', rate: '10.00', amount: '30.00', tax: '3.00' }],
            shipping: '4.95',
            shippingTax: '0.50',
            headerDiscount: '5.00',
        });
        const [refund] = post({ action: 'page', searchId: lib.DEFAULT_SAVED_SEARCH_ID, pageSize: 5 }).refunds;
        expect(refund).toMatchObject({
            tranDate: '2024-02-29',
            lastModified: '2024-03-01T23:59:00Z',
            currency: 'EUR',
            memo: 'Damaged in transit',
            customerName: 'Max Muster',
            subtotal: '30.00',
            taxTotal: '3.50',
            discountTotal: '-5.00',
            shippingAmount: '4.95',
            shippingTax: '0.50',
            total: '33.45',
        });
        // The header discount is its own row, as NetSuite lists it, not a line invented from a header field.
        expect(refund.lines.map((line) => [line.line, line.itemType, line.amount, line.taxAmount])).toEqual([
            [1, 'InvtPart', '30.00', '3.00'],
            [2, 'Discount', '-5.00', '0.00'],
        ]);
    });
});

describe('governance', () => {
    const twoLines = [
        { item: ITEMS.mug, quantity: '1', rate: '10.00', amount: '10.00' },
        { item: ITEMS.shirt, quantity: '1', rate: '20.00', amount: '20.00' },
    ];
    const request = { action: 'page', searchId: lib.DEFAULT_SAVED_SEARCH_ID, pageSize: 300 };

    beforeEach(() => {
        range(1, 300).forEach((id) => addRefund(account, { id, lines: twoLines }));
    });

    it('Given the units run out during the second batch, Then the page stops with the first batch whole and truncated, and the next call goes on', () => {
        // Selecting costs 15 and the first batch 50 (header, lines, shipping rows, tax rows,
        // customer refunds); the second batch's header fits but its lines would eat into the
        // 20-unit reserve.
        account.setUsage(100);
        const first = post(request);

        expect(first.paging).toEqual({ afterId: '0', lastId: '250', pageSize: 300, count: 250, hasMore: true, truncatedByGovernance: true });
        expect(first.remainingUsage).toBeGreaterThanOrEqual(lib.USAGE_RESERVE);
        first.refunds.forEach((refund) => expect(refund.lines).toHaveLength(2));

        account.setUsage(1000);
        const second = post({ ...request, afterId: first.paging.lastId });
        expect(second.paging).toMatchObject({ count: 50, hasMore: false, truncatedByGovernance: false, lastId: '300' });
    });

    it('Given only enough units to select, Then the answer is an empty truncated page that asks to come back', () => {
        account.setUsage(35);
        expect(post(request).paging).toEqual({ afterId: '0', lastId: null, pageSize: 300, count: 0, hasMore: true, truncatedByGovernance: true });
    });

    it('Given not even enough units to select, Then the answer is USAGE_LIMIT', () => {
        account.setUsage(30);
        expect(post(request).error.code).toBe('USAGE_LIMIT');
    });

    // Any budget that pays for selecting (15), one batch (50 here) and the reserve (20) makes
    // progress; a real RESTlet call has 5,000 units.
    it.each([85, 120, 200])('Given %i units per call, Then paging never dies of the limit and delivers every refund exactly once', (units) => {
        const responses = pageThrough(request, { beforeEachCall: () => account.setUsage(units) });
        expect(ids(responses)).toEqual(range(1, 300).map(String));
        responses.forEach((response) => expect(response.remainingUsage).toBeGreaterThanOrEqual(0));
    });
});
