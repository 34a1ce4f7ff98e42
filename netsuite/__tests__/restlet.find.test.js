/**
 * POST {"action": "find"}: refunds by internal id, document number or BigCommerce order id, and
 * for each query that found nothing the reason a NetSuite admin can act on.
 */
import lib from 'SuiteScripts/refund_sync/rs_refund_export_lib';
import { addBilled, addCreditedOrder, addRefund, addSalesOrder, storeAccount } from './support/fixtures';
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
    // Order 1001: SO 301 -> invoice 401 -> credit memo 501, in the saved search.
    addCreditedOrder(account, { orderId: '1001', soId: 301, invoiceId: 401, creditMemoId: 501 });
    // Order 1002: SO 302 -> cash sale 402 -> cash refund 502, excluded from the saved search.
    addSalesOrder(account, { id: 302, orderId: '1002' });
    addBilled(account, { id: 402, typeCode: 'CashSale', from: 302 });
    addRefund(account, { id: 502, typeCode: 'CashRfnd', from: 402, fields: { custbody_rs_exclude: true } });
    // Order 1003: SO 303 -> invoice 403, never refunded. Order 1004: SO 304, not billed yet.
    addSalesOrder(account, { id: 303, orderId: '1003' });
    addBilled(account, { id: 403, typeCode: 'CustInvc', from: 303 });
    addSalesOrder(account, { id: 304, orderId: '1004' });
});

const find = (query) => post({ action: 'find', version: '1', searchId: lib.DEFAULT_SAVED_SEARCH_ID, ...query });
const reasonsOf = (response) => Object.fromEntries(response.notFound.map((entry) => [`${entry.kind}:${entry.value}`, entry.reasons.map((reason) => reason.code)]));

describe('finding refunds', () => {
    it('finds the same refund by internal id, document number and BigCommerce order id, once', () => {
        const response = find({ ids: ['501'], tranIds: ['cm-501'], orderIds: ['1001'] });
        expect(response.refunds.map((refund) => refund.id)).toEqual(['501']);
        expect(response.refunds[0]).toMatchObject({ bigcommerceOrderId: '1001', orderIdSource: 'custbody_fa_channel_order on SO-301' });
        expect(response.notFound).toEqual([]);
    });

    it('finds every refund of an order, whether created from the invoice or carrying the order id itself', () => {
        addRefund(account, { id: 505, from: 401 });
        addRefund(account, { id: 506, fields: { custbody_fa_channel_order: '1001' } });
        expect(find({ orderIds: ['1001'] }).refunds.map((refund) => refund.id)).toEqual(['501', '505', '506']);
    });
});

describe('why a query found nothing', () => {
    it('NO_SUCH_TRANSACTION: no transaction has that internal id or document number', () => {
        const response = find({ ids: ['99999'], tranIds: ['CM-99999'] });
        expect(reasonsOf(response)).toEqual({ 'id:99999': ['NO_SUCH_TRANSACTION'], 'tranId:CM-99999': ['NO_SUCH_TRANSACTION'] });
        expect(response.notFound[0].reasons[0].message).toMatch(/No transaction has internal id 99999/);
    });

    it('NOT_A_REFUND: the id or number belongs to another kind of transaction', () => {
        const response = find({ ids: ['401'], tranIds: ['SO-301'] });
        expect(reasonsOf(response)).toEqual({ 'id:401': ['NOT_A_REFUND'], 'tranId:SO-301': ['NOT_A_REFUND'] });
        expect(response.notFound[0].reasons[0].message).toMatch(/belongs to Invoice INV-401, not to a cash refund or credit memo/);
    });

    it('ORDER_NOT_SYNCED: no sales order carries the BigCommerce order id', () => {
        const response = find({ orderIds: ['777'] });
        expect(reasonsOf(response)).toEqual({ 'orderId:777': ['ORDER_NOT_SYNCED'] });
        expect(response.notFound[0].reasons[0].message).toMatch(/custbody_fa_channel_order: the order was not synced from BigCommerce/);
    });

    it('NO_REFUND_FOR_ORDER: the order is there but nothing was refunded from its billed records', () => {
        const response = find({ orderIds: ['1003', '1004'] });
        expect(reasonsOf(response)).toEqual({ 'orderId:1003': ['NO_REFUND_FOR_ORDER'], 'orderId:1004': ['NO_REFUND_FOR_ORDER'] });
        expect(response.notFound[0].reasons[0].message).toMatch(/Sales Order SO-303 carries BigCommerce order id 1003.*\(Invoice INV-403\)/);
        expect(response.notFound[1].reasons[0].message).toMatch(/no invoice, cash sale or return authorization yet/);
    });

    it('OUTSIDE_SAVED_SEARCH: the refund exists but the saved search excludes it, by any kind of query', () => {
        const response = find({ ids: ['502'], tranIds: ['CR-502'], orderIds: ['1002'] });
        expect(response.refunds).toEqual([]);
        expect(reasonsOf(response)).toEqual({
            'id:502': ['OUTSIDE_SAVED_SEARCH'],
            'tranId:CR-502': ['OUTSIDE_SAVED_SEARCH'],
            'orderId:1002': ['OUTSIDE_SAVED_SEARCH'],
        });
        expect(response.notFound[0].reasons[0].message).toMatch(/Cash Refund CR-502 exists, but saved search customsearch_rs_refunds excludes it.*custbody_rs_exclude/);
    });

    it('answers found and not-found queries together', () => {
        const response = find({ ids: ['501', '99999'], orderIds: ['1003'] });
        expect(response.refunds.map((refund) => refund.id)).toEqual(['501']);
        expect(reasonsOf(response)).toEqual({ 'id:99999': ['NO_SUCH_TRANSACTION'], 'orderId:1003': ['NO_REFUND_FOR_ORDER'] });
    });
});

describe('find errors', () => {
    it('needs something to look up', () => {
        expect(find({}).error).toMatchObject({ code: 'INVALID_REQUEST' });
    });

    it('cannot look up orders when no order id field is configured', () => {
        account.parameters.custscript_rs_order_id_field = '';
        const response = find({ orderIds: ['1001'] });
        expect(response.error.code).toBe('CONFIGURATION_ERROR');
        expect(response.error.message).toMatch(/custscript_rs_order_id_field/);
    });

    it('answers USAGE_LIMIT rather than a partial answer when the units run out', () => {
        account.setUsage(50);
        expect(find({ ids: ['501'], tranIds: ['CM-501'], orderIds: ['1001'] }).error.code).toBe('USAGE_LIMIT');
    });
});
