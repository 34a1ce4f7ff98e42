/**
 * The SDF installation script creates the sample saved search once and leaves an existing one
 * (and an admin's edits to it) alone.
 */
import search from 'N/search';
import installer from 'SuiteScripts/refund_sync/rs_install';
import lib from 'SuiteScripts/refund_sync/rs_refund_export_lib';
import { FakeAccount, installFakeNetSuite, netsuiteError } from './support/fakeNetSuite';

jest.mock('N/search');
jest.mock('N/log');
jest.mock('N/error');
jest.mock('N/runtime');
jest.mock('N/record');
jest.mock('N/format');

let account;

beforeEach(() => {
    jest.clearAllMocks();
    account = installFakeNetSuite(new FakeAccount());
});

it('Given a fresh account, Then it creates a public customsearch_rs_refunds selecting unvoided, not excluded refunds sorted by internal id', () => {
    installer.run({ fromVersion: null, toVersion: '1.0.0' });

    const saved = account.savedSearches.get('customsearch_rs_refunds');
    expect(saved).toMatchObject({ searchType: 'transaction', isPublic: true, title: 'refund-sync: refunds to send to BigCommerce' });
    expect(saved.filterExpression).toEqual([
        ['type', 'anyof', ['CashRfnd', 'CustCred']],
        'AND',
        ['mainline', 'is', 'T'],
        'AND',
        ['voided', 'is', 'F'],
        'AND',
        ['custbody_rs_exclude', 'is', 'F'],
    ]);
    expect(saved.columns[0]).toEqual({ name: 'internalid', sort: 'ASC' });
});

it('Given the search already exists, Then it is left unchanged', () => {
    account.addSavedSearch(lib.DEFAULT_SAVED_SEARCH_ID, { filterExpression: [['custbody_store', 'is', 'EU']] });
    installer.run({ fromVersion: '1.0.0', toVersion: '1.0.1' });
    expect(search.create).not.toHaveBeenCalled();
    expect(account.savedSearches.get(lib.DEFAULT_SAVED_SEARCH_ID).filterExpression).toEqual([['custbody_store', 'is', 'EU']]);
});

it('Given NetSuite refuses to save it, Then the deployment stops with the reason and the way out', () => {
    search.create.mockImplementationOnce(() => {
        throw netsuiteError('SSS_INVALID_SRCH_FILTER', 'An nlobjSearchFilter contains an invalid filter: custbody_rs_exclude.');
    });
    expect(() => installer.run({ fromVersion: null, toVersion: '1.0.0' })).toThrow(/Could not create saved search customsearch_rs_refunds.*custbody_rs_exclude.*README/);
});
