/**
 * Every error path of the RESTlet answers the contract's ErrorResponse with a message a person
 * can act on; none of them is a silent success.
 */
import search from 'N/search';
import lib from 'SuiteScripts/refund_sync/rs_refund_export_lib';
import { addRefund, storeAccount } from './support/fixtures';
import { netsuiteError } from './support/fakeNetSuite';
import { post, rawPost } from './support/restletClient';

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
    addRefund(account, { id: 501 });
});

const page = (overrides = {}) => post({ action: 'page', version: '1', searchId: lib.DEFAULT_SAVED_SEARCH_ID, ...overrides });

describe('INVALID_REQUEST', () => {
    it.each([
        ['a body that is not JSON', () => JSON.parse(rawPost('{"action": "page",')), /not valid JSON/],
        ['a list instead of an object', () => post([]), /must be a JSON object/],
        ['an unknown action', () => post({ action: 'export' }), /POST accepts the actions "page", "find"/],
        ['an unknown field', () => page({ cursor: 'abc' }), /cursor: is not a field of this request/],
        ['a page size out of range', () => page({ pageSize: 2000 }), /pageSize: must be a whole number from 5 to 1000/],
        ['an afterId that is not an internal id', () => page({ afterId: 'CM-1' }), /afterId: must be a NetSuite internal id/],
    ])('for %s', (unused, call, message) => {
        const response = call();
        expect(response.error.code).toBe('INVALID_REQUEST');
        expect(response.error.message).toMatch(message);
    });

    it('for a searchId that is not a string (null included: empty means the deployment\'s, absent too)', () => {
        const response = page({ searchId: null });
        expect(response.error.code).toBe('INVALID_REQUEST');
        expect(response.error.message).toMatch(/searchId: must be a string/);
    });
});

it('UNSUPPORTED_VERSION names the version it speaks', () => {
    expect(page({ version: '2' }).error).toMatchObject({ code: 'UNSUPPORTED_VERSION', details: { supportedVersions: ['1'], requestedVersion: '2' } });
});

it('SEARCH_NOT_FOUND when the saved search cannot be loaded', () => {
    const response = page({ searchId: 'customsearch_gone' });
    expect(response.error).toMatchObject({ code: 'SEARCH_NOT_FOUND', details: { searchId: 'customsearch_gone', netsuiteError: 'INVALID_SEARCH' } });
    expect(response.error.message).toMatch(/public or shared with the integration role/);
});

it('SEARCH_NOT_REFUNDS when the saved search is not a transaction search', () => {
    const response = page({ searchId: 'customsearch_customers' });
    expect(response.error).toMatchObject({ code: 'SEARCH_NOT_REFUNDS', details: { searchType: 'customer' } });
});

it('USAGE_LIMIT when the call cannot even select a page', () => {
    account.setUsage(10);
    expect(page().error.code).toBe('USAGE_LIMIT');
});

describe('CONFIGURATION_ERROR', () => {
    it('when neither the request nor the deployment names a saved search', () => {
        account.parameters.custscript_rs_saved_search = '';
        [page({ searchId: '' }), post({ action: 'page' }), post({ action: 'find', ids: ['501'] })].forEach((response) => {
            expect(response.error).toMatchObject({ code: 'CONFIGURATION_ERROR', details: { parameter: 'custscript_rs_saved_search' } });
            expect(response.error.message).toMatch(/deployment parameter "Saved search" \(custscript_rs_saved_search\) is empty/);
        });
    });

    it('when a deployment parameter is not a field id', () => {
        account.parameters.custscript_rs_sku_field = 'Item SKU';
        const response = page();
        expect(response.error.code).toBe('CONFIGURATION_ERROR');
        expect(response.error.message).toMatch(/"SKU item field" \(custscript_rs_sku_field\) = "Item SKU"/);
    });

    it('when a configured field does not exist in the account', () => {
        account.parameters.custscript_rs_loop_guard_field = 'custbody_not_here';
        const response = page();
        expect(response.error.code).toBe('CONFIGURATION_ERROR');
        expect(response.error.details).toMatchObject({ netsuiteError: 'SSS_INVALID_SRCH_COL', parameters: { custscript_rs_loop_guard_field: 'custbody_not_here' } });
        expect(response.error.message).toMatch(/Check that every field named in the deployment parameters exists/);
    });
});

describe('UNEXPECTED_ERROR', () => {

    it('when NetSuite fails in a way the script does not know', () => {
        search.create.mockImplementationOnce(() => {
            throw netsuiteError('SSS_CONNECTION_TIME_OUT', 'The database took too long.');
        });
        expect(page().error).toMatchObject({ code: 'UNEXPECTED_ERROR', message: 'NetSuite raised SSS_CONNECTION_TIME_OUT: The database took too long.' });
    });

    it('when a refund\'s currency has no ISO code, naming the refund', () => {
        account.transaction(501).currency = 'Dollar';
        const response = page();
        expect(response.error).toMatchObject({ code: 'UNEXPECTED_ERROR', details: { id: '501', currency: 'Dollar' } });
        expect(response.error.message).toMatch(/^CM-501 is in a currency/);
    });
});
