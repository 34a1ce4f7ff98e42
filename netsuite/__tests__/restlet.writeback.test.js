/**
 * PUT {"action": "writeBack"}: the refund-sync outcome written to the refund's custom body fields
 * with record.submitFields (no sourcing, no mandatory-field checks): SYNCED with the BigCommerce
 * refund id, FAILED and HELD with the reason code and what to do, so a NetSuite user sees the state
 * on the refund and in the "refunds not synced" saved search.
 */
import record from 'N/record';
import search from 'N/search';
import lib from 'SuiteScripts/refund_sync/rs_refund_export_lib';
import { addRefund, storeAccount } from './support/fixtures';
import { netsuiteError, READING_VALUES } from './support/fakeNetSuite';
import { post, put } from './support/restletClient';

jest.mock('N/search');
jest.mock('N/record');
jest.mock('N/runtime');
jest.mock('N/format');
jest.mock('N/log');
jest.mock('N/error');

let account;

const setUp = (options = {}) => {
    jest.clearAllMocks();
    account = storeAccount(options);
    addRefund(account, { id: 501, typeCode: 'CustCred' });
    addRefund(account, { id: 502, typeCode: 'CashRfnd' });
};

beforeEach(() => setUp());

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

const failed = (overrides = {}) =>
    writeBack({
        bigcommerceRefundId: null,
        status: 'FAILED',
        reasonCode: 'ORDER_NOT_FOUND',
        message: 'BigCommerce has no order 1001',
        whatToDo: 'Check the order id on the NetSuite sales order against BigCommerce.',
        ...overrides,
    });

describe('write-back', () => {
    it('Given a synced refund, Then its fields are written without sourcing or mandatory-field checks, the time as a Date', () => {
        expect(writeBack()).toEqual({ action: 'writeBack', version: '1', id: '501', updated: true });
        expect(record.submitFields).toHaveBeenCalledWith({
            type: 'creditmemo',
            id: '501',
            values: {
                custbody_rs_bc_refund_id: '9001',
                custbody_rs_sync_status: 'SYNCED',
                custbody_rs_reason_code: '',
                custbody_rs_sync_message: 'Refunded 110.00 USD on BigCommerce order 1001',
                custbody_rs_what_to_do: '',
                custbody_rs_synced_at: new Date('2024-04-15T10:05:00Z'),
            },
            options: { enableSourcing: false, ignoreMandatoryFields: true },
        });
        expect(record.submitFields.mock.calls[0][0].values.custbody_rs_synced_at).toBeInstanceOf(Date);
    });

    it.each(['FAILED', 'HELD'])('Given a %s refund, Then the status, reason code, details and what to do are on the refund', (status) => {
        failed({ status, id: '502', recordType: 'cashrefund' });
        expect(account.transaction(502).fields).toMatchObject({
            custbody_rs_bc_refund_id: '',
            custbody_rs_sync_status: status,
            custbody_rs_reason_code: 'ORDER_NOT_FOUND',
            custbody_rs_sync_message: 'BigCommerce has no order 1001',
            custbody_rs_what_to_do: 'Check the order id on the NetSuite sales order against BigCommerce.',
        });
    });

    it('Given a refund that failed and then synced, Then the reason and what to do are cleared', () => {
        failed();
        writeBack();
        expect(account.transaction(501).fields).toMatchObject({ custbody_rs_sync_status: 'SYNCED', custbody_rs_reason_code: '', custbody_rs_what_to_do: '' });
    });

    it('Given the same outcome is written again, Then nothing is saved, so the refund\'s last-modified date does not move', () => {
        writeBack();
        const modified = account.transaction(501).lastModified;
        account.now = '2024-05-02T00:00:00Z';

        expect(writeBack({ syncedAt: '2024-04-16T00:00:00Z' })).toMatchObject({ updated: false });
        expect(record.submitFields).toHaveBeenCalledTimes(1);
        expect(account.transaction(501).lastModified).toBe(modified);
    });

    it('Given the same failure reworded on a later attempt, Then nothing is saved either: a write-back never starts a loop', () => {
        failed();
        account.now = '2024-05-02T00:00:00Z';
        expect(failed({ message: 'BigCommerce has no order 1001 (attempt 2, 503 after 4.2s)' })).toMatchObject({ updated: false });
        expect(record.submitFields).toHaveBeenCalledTimes(1);
        // A new reason is a new outcome, and is written.
        expect(failed({ reasonCode: 'RETRIES_EXHAUSTED' })).toMatchObject({ updated: true });
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

describe('the date-time field holds the instant, whatever the preferences', () => {
    // The user's preference is eight hours east of UTC; under the 'pacific' reading format.format
    // answers in Pacific time, so a formatted string would name another instant.
    it.each(READING_VALUES.serverFormatZone)('under the %s reading of format.format, synced-at is the instant sent', (zone) => {
        setUp({ readings: { serverFormatZone: zone } });
        account.userOffsetMinutes = 480;
        writeBack({ syncedAt: '2024-11-03T08:30:00Z' });
        expect(account.transaction(501).fields.custbody_rs_synced_at.toISOString()).toBe('2024-11-03T08:30:00.000Z');
    });
});

describe('a refund in a closed period', () => {
    it.each(READING_VALUES.closedPeriodError)('Given NetSuite refuses the save (%s error), Then PERIOD_CLOSED says why and what to do', (reading) => {
        setUp({ readings: { closedPeriodError: reading } });
        addRefund(account, { id: 503, periodClosed: true });
        const response = failed({ id: '503' });
        expect(response.error).toMatchObject({ code: 'PERIOD_CLOSED', details: { id: '503', recordType: 'creditmemo' } });
        expect(response.error.message).toMatch(/accounting period is closed.*Allow non-G\/L changes/);
        expect(account.transaction(503).fields.custbody_rs_sync_status).toBeUndefined();
    });

    it('Given the period allows non-G/L changes, Then the fields are written (they post nothing)', () => {
        addRefund(account, { id: 503, periodClosed: true, periodAllowsNonGLChanges: true });
        expect(failed({ id: '503' })).toMatchObject({ updated: true });
    });

    it('recognises the refusal by name or by message, and nothing else', () => {
        expect(lib.isClosedPeriodError(netsuiteError('ACCOUNTING_PERIOD_CLOSED', 'x'))).toBe(true);
        expect(lib.isClosedPeriodError(netsuiteError('USER_ERROR', 'The period you selected is locked.'))).toBe(true);
        expect(lib.isClosedPeriodError(netsuiteError('USER_ERROR', 'You cannot post to a closed accounting period.'))).toBe(true);
        expect(lib.isClosedPeriodError(netsuiteError('INSUFFICIENT_PERMISSION', 'no access'))).toBe(false);
    });
});

describe('the refund\'s own content never carries the write-back fields', () => {
    const content = (refund) => {
        const copy = { ...refund };
        delete copy.lastModified;
        return copy;
    };

    it('Given a refund written back as FAILED, Then the next page returns the same refund, only later modified', () => {
        const before = post({ action: 'page', searchId: lib.DEFAULT_SAVED_SEARCH_ID, pageSize: 5 }).refunds.find((refund) => refund.id === '501');
        failed();
        const after = post({ action: 'page', searchId: lib.DEFAULT_SAVED_SEARCH_ID, pageSize: 5 }).refunds.find((refund) => refund.id === '501');
        expect(after.lastModified > before.lastModified).toBe(true);
        expect(content(after)).toEqual(content(before));
    });

    it('reads none of the write-back fields into a refund', () => {
        const searched = account.createdSearches.flatMap((created) => created.columns.map((column) => column.name));
        post({ action: 'page', searchId: lib.DEFAULT_SAVED_SEARCH_ID, pageSize: 5 });
        const columns = account.createdSearches.flatMap((created) => created.columns.map((column) => column.name)).concat(searched);
        Object.values(lib.WRITE_BACK_FIELDS).forEach((field) => expect(columns).not.toContain(field));
    });
});
