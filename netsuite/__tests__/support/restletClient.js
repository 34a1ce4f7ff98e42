/**
 * Calls the RESTlet's entry points the way NetSuite does and checks every answer against the
 * contract before a test sees it: a response that breaks the schema fails the test that got it.
 */
import restlet from 'SuiteScripts/refund_sync/rs_refund_export_rl';
import { expectContract } from './contract';

const DEFINITION_BY_ACTION = { page: 'PageResponse', find: 'FindResponse', writeBack: 'WriteBackResponse' };

function checked(response) {
    const message = typeof response === 'string' ? JSON.parse(response) : response;
    const definition = 'error' in message ? 'ErrorResponse' : DEFINITION_BY_ACTION[message.action];
    if (!definition) throw new Error(`Response of no known shape: ${JSON.stringify(message)}`);
    return expectContract(definition, message);
}

export const post = (body) => checked(restlet.post(body));
export const put = (body) => checked(restlet.put(body));
/** The raw answer, for tests about its form (text in, text out). */
export const rawPost = (body) => restlet.post(body);

/** Every page of the saved search, following lastId until hasMore is false. */
export function pageThrough(request, { maxCalls = 100, beforeEachCall } = {}) {
    const responses = [];
    let afterId = request.afterId || '0';
    for (let call = 0; call < maxCalls; call += 1) {
        if (beforeEachCall) beforeEachCall(call);
        const response = post({ action: 'page', version: '1', ...request, afterId });
        if (response.error) throw new Error(`page call failed: ${JSON.stringify(response.error)}`);
        responses.push(response);
        if (!response.paging.hasMore) return responses;
        afterId = response.paging.lastId || afterId;
    }
    throw new Error(`still paging after ${maxCalls} calls`);
}
