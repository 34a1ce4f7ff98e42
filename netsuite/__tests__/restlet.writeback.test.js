/**
 * PUT {"action": "writeBack"}: the BigCommerce outcome written to the refund's custom body fields
 * with record.submitFields (no sourcing, no mandatory-field checks).
 */
import record from 'N/record';
import search from 'N/search';
import { addRefund, storeAccount } from './support/fixtures';
import { netsuiteError } from './support/fakeNetSuite';
import { post, put } from './support/restletClient';

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
    addRefund(account, { id: 501, typeCode: 'CustCred' });
    addRefund(account, { id: 502, typeCode: 'CashRfnd' });
});

const writeBack = (overrides = {}) =>
    put({
        action: 'writeBack',
        version: '1',
        id: '501',
        recordType: 'creditmemo',
        bigcommerceRefundId: '9001',
        status: 'SYNCED',
        message: 'Refunded 110.00 USD on BigCommerce order 1001',
        syncedAt: '2024-04-15T10:05:00Z',
        ...overrides,
    });

describe('write-back', () => {
    it('Given a synced refund, Then its four fields are written without sourcing or mandatory-field checks', () => {
        expect(writeBack()).toEqual({ action: 'writeBack', version: '1', id: '501', updated: true });
        expect(record.submitFields).toHaveBeenCalledWith({
            type: 'creditmemo',
            id: '501',
            values: {
                custbody_rs_bc_refund_id: '9001',
                custbody_rs_sync_status: 'SYNCED',
                custbody_rs_sync_message: 'Refunded 110.00 USD on BigCommerce order 1001',
                custbody_rs_synced_at: '4/15/2024 10:05 am',
            },
            options: { enableSourcing: false, ignoreMandatoryFields: true },
        });
    });

    it('Given a failure without a BigCommerce refund, Then empty values clear the id and the message says why', () => {
        writeBack({ id: '502', recordType: 'cashrefund', bigcommerceRefundId: null, status: 'FAILED', message: 'Order 1002 not found on BigCommerce' });
        expect(account.transaction(502).fields).toMatchObject({ custbody_rs_bc_refund_id: '', custbody_rs_sync_status: 'FAILED' });
    });

    it('Given the same outcome is written again, Then nothing is saved, so the refund\'s last-modified date does not move', () => {
        writeBack();
        const modified = account.transaction(501).lastModified;
        account.now = '2024-05-02T00:00:00Z';

        expect(writeBack({ syncedAt: '2024-04-16T00:00:00Z' })).toMatchObject({ updated: false });
        expect(record.submitFields).toHaveBeenCalledTimes(1);
        expect(account.transaction(501).lastModified).toBe(modified);
    });

    it('Given an id of another record type, Then RECORD_NOT_FOUND says which record was looked for', () => {
        const response = writeBack({ id: '502', recordType: 'creditmemo' });
        expect(response.error).toMatchObject({ code: 'RECORD_NOT_FOUND', details: { id: '502', recordType: 'creditmemo', netsuiteError: 'RCRD_DSNT_EXIST' } });
        expect(response.error.message).toMatch(/No Credit Memo has internal id 502/);
        expect(record.submitFields).not.toHaveBeenCalled();
    });

    it('Given NetSuite answers the lookup with no fields, Then RECORD_NOT_FOUND rather than a blind write', () => {
        search.lookupFields.mockReturnValueOnce({});
        expect(writeBack().error).toMatchObject({ code: 'RECORD_NOT_FOUND', details: { netsuiteError: null } });
        expect(record.submitFields).not.toHaveBeenCalled();
    });

    it('Given the refund is deleted between lookup and save, Then RECORD_NOT_FOUND too', () => {
        record.submitFields.mockImplementationOnce(() => {
            throw netsuiteError('RCRD_DSNT_EXIST', 'That record does not exist.');
        });
        expect(writeBack().error.code).toBe('RECORD_NOT_FOUND');
    });

    it('Given a role without edit permission, Then the error says so instead of pretending the record is missing', () => {
        record.submitFields.mockImplementationOnce(() => {
            throw netsuiteError('INSUFFICIENT_PERMISSION', 'You do not have permissions to set a value for element custbody_rs_sync_status.');
        });
        const response = writeBack();
        expect(response.error.code).toBe('UNEXPECTED_ERROR');
        expect(response.error.message).toMatch(/lacks a permission/);
    });

    it('Given an invalid request, Then INVALID_REQUEST lists each problem and nothing is written', () => {
        const response = writeBack({ status: 'S'.repeat(41), syncedAt: 'yesterday', recordType: 'invoice' });
        expect(response.error.code).toBe('INVALID_REQUEST');
        expect(response.error.details.problems.map((problem) => problem.field).sort()).toEqual(['recordType', 'status', 'syncedAt']);
        expect(record.submitFields).not.toHaveBeenCalled();
    });

    it('Given a write-back over POST, or a page over PUT, Then INVALID_REQUEST names the right method', () => {
        expect(post({ action: 'writeBack', id: '501' }).error.message).toMatch(/Send "writeBack" with PUT/);
        expect(put({ action: 'page', searchId: 'x' }).error.message).toMatch(/Send "page" with POST/);
    });
});
