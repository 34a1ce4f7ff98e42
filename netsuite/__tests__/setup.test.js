/**
 * The setup Suitelet creates the saved searches refund-sync expects, once, and leaves an existing
 * one (and an administrator's edits to it) alone.
 */
import search from 'N/search';
import setupPage from 'SuiteScripts/refund_sync/rs_setup_sl';
import lib from 'SuiteScripts/refund_sync/rs_refund_export_lib';
import { addRefund, storeAccount } from './support/fixtures';
import { FakeAccount, installFakeNetSuite, netsuiteError } from './support/fakeNetSuite';
import { post, put } from './support/restletClient';

jest.mock('N/search');
jest.mock('N/record');
jest.mock('N/runtime');
jest.mock('N/format');
jest.mock('N/error');

let account;

beforeEach(() => {
    jest.clearAllMocks();
    account = installFakeNetSuite(new FakeAccount());
});

function open(method) {
    const written = [];
    setupPage.onRequest({ request: { method, parameters: {} }, response: { write: ({ output }) => written.push(output) } });
    return written.join('');
}

it('Given a fresh account, When the page is opened, Then it lists both searches as missing and offers to create them, creating nothing', () => {
    const html = open('GET');
    expect(html).toMatch(/customsearch_rs_refunds<\/code><\/td><td>missing/);
    expect(html).toMatch(/customsearch_rs_refunds_not_synced<\/code><\/td><td>missing/);
    expect(html).toMatch(/<form method="POST">/);
    expect(search.create).not.toHaveBeenCalled();
});

it('When the administrator creates them, Then both are public: refunds to send, and refunds not synced (failed or held)', () => {
    const html = open('POST');
    expect(html).toMatch(/created \(internal id 900\), public/);

    const refunds = account.savedSearches.get('customsearch_rs_refunds');
    expect(refunds).toMatchObject({ searchType: 'transaction', isPublic: true, title: 'refund-sync: refunds to send to BigCommerce' });
    expect(refunds.filterExpression).toEqual([
        ['type', 'anyof', ['CashRfnd', 'CustCred']],
        'AND',
        ['mainline', 'is', 'T'],
        'AND',
        ['voided', 'is', 'F'],
        'AND',
        ['custbody_rs_exclude', 'is', 'F'],
    ]);
    expect(refunds.columns[0]).toEqual({ name: 'internalid', sort: 'ASC' });

    const notSynced = account.savedSearches.get('customsearch_rs_refunds_not_synced');
    expect(notSynced).toMatchObject({ isPublic: true, title: 'refund-sync: refunds not synced (failed or held)' });
    expect(notSynced.filterExpression).toEqual([
        ['type', 'anyof', ['CashRfnd', 'CustCred']],
        'AND',
        ['mainline', 'is', 'T'],
        'AND',
        [['custbody_rs_sync_status', 'is', 'FAILED'], 'OR', ['custbody_rs_sync_status', 'is', 'HELD']],
    ]);
    expect(notSynced.columns.map((column) => column.name)).toEqual(expect.arrayContaining(Object.values(lib.WRITE_BACK_FIELDS).filter((field) => field !== 'custbody_rs_bc_refund_id')));
});

it('Given the searches exist, Then they are left unchanged, whatever the administrator edited', () => {
    account.addSavedSearch(lib.DEFAULT_SAVED_SEARCH_ID, { filterExpression: [['custbody_store', 'is', 'EU']] });
    const html = open('POST');
    expect(html).toMatch(/customsearch_rs_refunds<\/code><\/td><td>exists: left as it is/);
    expect(account.savedSearches.get(lib.DEFAULT_SAVED_SEARCH_ID).filterExpression).toEqual([['custbody_store', 'is', 'EU']]);
    expect(open('POST')).toMatch(/Nothing to create/);
});

it('Given NetSuite refuses to save one, Then the page says why and the way out, and creates the other', () => {
    search.create.mockImplementationOnce(() => {
        throw netsuiteError('SSS_INVALID_SRCH_FILTER', 'An nlobjSearchFilter contains an invalid filter: custbody_rs_exclude.');
    });
    const html = open('POST');
    expect(html).toMatch(/could not be set up \(SSS_INVALID_SRCH_FILTER: .*custbody_rs_exclude.*netsuite\/README.md/);
    expect(account.savedSearches.has('customsearch_rs_refunds_not_synced')).toBe(true);
});

it('Given a search it cannot even look at, Then it says so and does not try to create it', () => {
    search.load.mockImplementation(() => {
        throw netsuiteError('INSUFFICIENT_PERMISSION', 'Permission Violation: you need a higher level of the Perform Search permission.');
    });
    expect(open('POST')).toMatch(/could not be set up \(INSUFFICIENT_PERMISSION/);
    expect(search.create).not.toHaveBeenCalled();
});

it('escapes what it shows', () => {
    search.load.mockImplementation(() => {
        throw netsuiteError('ODD', '<script>alert(1)</script>');
    });
    expect(open('GET')).toMatch(/&lt;script&gt;/);
});

describe('the "refunds not synced" search a NetSuite user opens', () => {
    it('lists the refunds written back FAILED or HELD, and not the synced ones', () => {
        account = storeAccount();
        [501, 502, 503].forEach((id) => addRefund(account, { id }));
        const writeBack = (id, status, reasonCode) =>
            put({ action: 'writeBack', id: String(id), recordType: 'creditmemo', status, reasonCode, message: 'm', whatToDo: reasonCode ? 'do this' : null, syncedAt: '2024-04-15T10:05:00Z' });
        writeBack(501, 'SYNCED', null);
        writeBack(502, 'FAILED', 'ORDER_NOT_FOUND');
        writeBack(503, 'HELD', 'AMOUNT_MISMATCH');
        open('POST');
        const [, notSynced] = lib.savedSearchDefinitions();
        const ids = search
            .create({ type: 'transaction', filters: notSynced.filters, columns: [{ name: 'internalid' }] })
            .runPaged({ pageSize: 50 })
            .fetch({ index: 0 })
            .data.map((result) => result.id);
        expect(ids).toEqual(['502', '503']);
        expect(post({ action: 'page', pageSize: 5 }).refunds.map((refund) => refund.id)).toEqual(['501', '502', '503']);
    });
});
