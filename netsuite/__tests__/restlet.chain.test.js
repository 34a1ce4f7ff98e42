/**
 * The created-from chain, followed by record type until a sales order and never further than
 * three links: page reads the BigCommerce order id up the chain, find-by-order comes down the
 * same links. One story per path a refund can take from its order.
 */
import lib from 'SuiteScripts/refund_sync/rs_refund_export_lib';
import { addBilled, addRefund, addSalesOrder, storeAccount } from './support/fixtures';
import { post } from './support/restletClient';

jest.mock('N/search');
jest.mock('N/record');
jest.mock('N/runtime');
jest.mock('N/format');
jest.mock('N/log');
jest.mock('N/error');

let account;

beforeEach(() => {
    jest.clearAllMocks();
    account = storeAccount();
});

const PREFIX = { SalesOrd: 'SO', CustInvc: 'INV', CashSale: 'CS', RtnAuth: 'RMA', CustCred: 'CM', CashRfnd: 'CR' };
const RECORD = { SalesOrd: 'salesorder', CustInvc: 'invoice', CashSale: 'cashsale', RtnAuth: 'returnauthorization' };

/** Builds order -> ... -> refund from a path written refund first: ['CustCred', 'RtnAuth', 'CustInvc', 'SalesOrd']. */
function build(path, orderId, firstId) {
    const ids = path.map((unused, index) => firstId + path.length - 1 - index);
    const [refundType, ...above] = path;
    above
        .slice()
        .reverse()
        .forEach((typeCode, reversedIndex) => {
            const index = above.length - reversedIndex;
            const from = index + 1 < path.length ? ids[index + 1] : null;
            if (typeCode === 'SalesOrd') addSalesOrder(account, { id: ids[index], orderId });
            else addBilled(account, { id: ids[index], typeCode, from });
        });
    addRefund(account, { id: ids[0], typeCode: refundType, from: ids[1] });
    return ids;
}

const PATHS = [
    ['CustCred', 'RtnAuth', 'CustInvc', 'SalesOrd'],
    ['CustCred', 'RtnAuth', 'CashSale', 'SalesOrd'],
    ['CustCred', 'RtnAuth', 'SalesOrd'],
    ['CustCred', 'CustInvc', 'SalesOrd'],
    ['CashRfnd', 'CashSale', 'SalesOrd'],
    ['CashRfnd', 'RtnAuth', 'CashSale', 'SalesOrd'],
    ['CashRfnd', 'RtnAuth', 'CustInvc', 'SalesOrd'],
    ['CashRfnd', 'RtnAuth', 'SalesOrd'],
];
const named = (path) => path.map((typeCode) => PREFIX[typeCode]).join(' <- ');

describe.each(PATHS.map((path) => [named(path), path]))('%s', (name, path) => {
    let ids;
    beforeEach(() => {
        ids = build(path, '7001', 100);
    });

    it('page: the order id is read on the sales order at the top of the chain, and named as its source', () => {
        const [refund] = post({ action: 'page', searchId: lib.DEFAULT_SAVED_SEARCH_ID, pageSize: 5 }).refunds;
        expect(refund).toMatchObject({
            id: String(ids[0]),
            bigcommerceOrderId: '7001',
            orderIdSource: `custbody_fa_channel_order on SO-${ids[ids.length - 1]}`,
            createdFrom: { id: String(ids[1]), type: RECORD[path[1]], tranId: `${PREFIX[path[1]]}-${ids[1]}` },
            salesOrder: { id: String(ids[ids.length - 1]), type: 'salesorder', tranId: `SO-${ids[ids.length - 1]}` },
        });
    });

    it('find by order id: the refund is found down the same links', () => {
        const response = post({ action: 'find', searchId: lib.DEFAULT_SAVED_SEARCH_ID, orderIds: ['7001'] });
        expect(response.refunds.map((refund) => refund.id)).toEqual([String(ids[0])]);
        expect(response.notFound).toEqual([]);
    });
});

describe('every path in one page', () => {
    it('climbs all the chains with at most two searches of created-from links, not one per refund', () => {
        PATHS.forEach((path, index) => build(path, String(8000 + index), 1000 + index * 10));
        const refunds = post({ action: 'page', searchId: lib.DEFAULT_SAVED_SEARCH_ID, pageSize: 20 }).refunds;
        expect(refunds.map((refund) => refund.bigcommerceOrderId)).toEqual(PATHS.map((unused, index) => String(8000 + index)));
        const linkSearches = account.createdSearches.filter((created) => created.columns.some((column) => column.name === 'createdfrom' && !column.join) && JSON.stringify(created.filters).includes('"mainline","is","T"') && created.columns.length === 5);
        expect(linkSearches.length).toBeLessThanOrEqual(lib.MAX_CHAIN_LINKS - 1);
    });
});

describe('links the chain does not follow', () => {
    it('a return authorization with no record of its own: the order id is read on it', () => {
        addBilled(account, { id: 200, typeCode: 'RtnAuth', fields: { custbody_fa_channel_order: '7100' } });
        addRefund(account, { id: 201, from: 200 });
        const [refund] = post({ action: 'page', searchId: lib.DEFAULT_SAVED_SEARCH_ID, pageSize: 5 }).refunds;
        expect(refund).toMatchObject({ bigcommerceOrderId: '7100', orderIdSource: 'custbody_fa_channel_order on RMA-200', salesOrder: null });
        expect(post({ action: 'find', searchId: lib.DEFAULT_SAVED_SEARCH_ID, orderIds: ['7100'] }).refunds.map((found) => found.id)).toEqual(['201']);
    });

    it('a credit memo created from a cash sale is not a path NetSuite offers: the chain stops at the refund', () => {
        addSalesOrder(account, { id: 300, orderId: '7200' });
        addBilled(account, { id: 301, typeCode: 'CashSale', from: 300 });
        addRefund(account, { id: 302, typeCode: 'CustCred', from: 301 });
        const [refund] = post({ action: 'page', searchId: lib.DEFAULT_SAVED_SEARCH_ID, pageSize: 5 }).refunds;
        expect(refund).toMatchObject({ bigcommerceOrderId: null, salesOrder: null, createdFrom: { id: '301', type: 'cashsale' } });
    });

    it('an invoice said to be created from a return authorization: never taken for the sales order', () => {
        addSalesOrder(account, { id: 400, orderId: '7300' });
        addBilled(account, { id: 401, typeCode: 'RtnAuth', from: 400 });
        addBilled(account, { id: 402, typeCode: 'CustInvc', from: 401 });
        addRefund(account, { id: 403, from: 402 });
        const [refund] = post({ action: 'page', searchId: lib.DEFAULT_SAVED_SEARCH_ID, pageSize: 5 }).refunds;
        expect(refund).toMatchObject({ bigcommerceOrderId: null, salesOrder: null });
        const found = post({ action: 'find', searchId: lib.DEFAULT_SAVED_SEARCH_ID, orderIds: ['7300'] });
        expect(found.refunds).toEqual([]);
        expect(found.notFound[0].reasons[0].code).toBe('NO_REFUND_FOR_ORDER');
    });
});
