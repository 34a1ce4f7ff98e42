/**
 * Pure rules of the refund export RESTlet, contract version 1 (see netsuite/CONTRACT.md).
 *
 * Everything here works on plain values: request validation, configuration, search filter and
 * column definitions, decimal arithmetic, row -> refund assembly (sign normalisation, the header
 * discount line, the total invariant), BigCommerce order-id resolution, the paid-out rule, the
 * find diagnostics and the response envelopes. The entry point (rs_refund_export_rl.js) only runs
 * searches and feeds rows in, so Jest can exercise every rule without NetSuite.
 *
 * @NApiVersion 2.1
 * @NModuleScope SameAccount
 */
define([], () => {
    'use strict';

    const CONTRACT_VERSION = '1';
    const MIN_PAGE_SIZE = 5;
    const MAX_PAGE_SIZE = 1000;
    const FALLBACK_PAGE_SIZE = 500;
    const MAX_QUERY_VALUES = 100;
    const MAX_STATUS_LENGTH = 40;
    const MAX_MESSAGE_LENGTH = 300;
    const MAX_INTERNAL_ID_LENGTH = 20;

    const DEFAULT_SAVED_SEARCH_ID = 'customsearch_rs_refunds';
    const EXCLUDE_FIELD = 'custbody_rs_exclude';
    const WRITE_BACK_FIELDS = Object.freeze({
        bigcommerceRefundId: 'custbody_rs_bc_refund_id',
        status: 'custbody_rs_sync_status',
        message: 'custbody_rs_sync_message',
        syncedAt: 'custbody_rs_synced_at',
    });

    const PARAMETERS = Object.freeze({
        savedSearch: 'custscript_rs_saved_search',
        orderIdField: 'custscript_rs_order_id_field',
        skuField: 'custscript_rs_sku_field',
        lineIdField: 'custscript_rs_line_id_field',
        productIdField: 'custscript_rs_product_id_field',
        variantIdField: 'custscript_rs_variant_id_field',
        loopGuardField: 'custscript_rs_loop_guard_field',
        defaultPageSize: 'custscript_rs_default_page_size',
    });
    const PARAMETER_LABELS = Object.freeze({
        savedSearch: 'Saved search',
        orderIdField: 'BigCommerce order id field',
        skuField: 'SKU item field',
        lineIdField: 'BigCommerce line id column field',
        productIdField: 'BigCommerce product id column field',
        variantIdField: 'BigCommerce variant id column field',
        loopGuardField: 'Loop-guard marker field',
        defaultPageSize: 'Default page size',
    });

    // Transaction type codes as N/search reports and filters them.
    const REFUND_TYPE_CODES = Object.freeze(['CashRfnd', 'CustCred']);
    const BILLED_TYPE_CODES = Object.freeze(['CustInvc', 'CashSale', 'RtnAuth']);
    const SALES_ORDER_TYPE_CODE = 'SalesOrd';
    const CUSTOMER_REFUND_TYPE_CODE = 'CustRfnd';
    const RECORD_TYPE_BY_TYPE_CODE = Object.freeze({
        CashRfnd: 'cashrefund',
        CustCred: 'creditmemo',
        CustInvc: 'invoice',
        CashSale: 'cashsale',
        RtnAuth: 'returnauthorization',
        SalesOrd: 'salesorder',
        CustRfnd: 'customerrefund',
    });
    const TYPE_CODE_BY_RECORD_TYPE = Object.freeze({ cashrefund: 'CashRfnd', creditmemo: 'CustCred' });
    const RECORD_TYPE_LABELS = Object.freeze({ cashrefund: 'Cash Refund', creditmemo: 'Credit Memo' });
    // A saved search can only select refunds if it is a Transaction search or one of the two refund types.
    const REFUND_SEARCH_TYPES = Object.freeze(['transaction', 'cashrefund', 'creditmemo']);

    // Item rows that carry no money of their own (a group's end line repeats its members' total).
    const NON_MONETARY_ITEM_TYPES = Object.freeze(['Description', 'Subtotal', 'Group', 'EndGroup']);
    const CHECK_PAYMENT_METHOD = /\b(check|cheque)\b/i;

    // SuiteScript governance units (NetSuite Help: N/search and N/record method governance).
    const COST = Object.freeze({ LOAD: 5, RUN_PAGED: 5, FETCH: 5, LOOKUP_FIELDS: 1, SUBMIT_FIELDS: 10 });
    // Units kept back for building the response and logging once the last search has run.
    const USAGE_RESERVE = 20;
    // Refunds gathered per batch of searches: large enough for few searches, small enough that a
    // page cut short by governance still returns whole batches and the next call makes progress.
    const GATHER_BATCH_SIZE = 250;
    const SEARCH_PAGE_SIZE = 1000;

    const FIELD_ID = /^[a-z][a-z0-9_]{0,99}$/;
    const INTERNAL_ID = /^[0-9]+$/;
    // RFC 3339 date-time with an offset, the shape of JSON Schema's "date-time" format.
    const DATE_TIME = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

    // ---------------------------------------------------------------- errors

    /**
     * An error the RESTlet answers as the contract's ErrorResponse. A plain constructor with a
     * marker property: subclassing Error does not survive every JavaScript engine NetSuite has run.
     */
    function RefundSyncError(code, message, details) {
        this.name = 'RefundSyncError';
        this.isRefundSyncError = true;
        this.code = code;
        this.message = message;
        this.details = details === undefined ? null : details;
    }
    RefundSyncError.prototype = Object.create(Error.prototype);
    RefundSyncError.prototype.constructor = RefundSyncError;

    const fail = (code, message, details) => {
        throw new RefundSyncError(code, message, details);
    };

    // ---------------------------------------------------------------- small helpers

    const isPlainObject = (value) => value !== null && typeof value === 'object' && !Array.isArray(value);
    const characterCount = (text) => Array.from(text).length;

    /** A trimmed non-empty string, or null: NetSuite answers "" (or "- None -") for empty fields. */
    function cleanText(value) {
        if (value === null || value === undefined) return null;
        // search.lookupFields answers a select field as [{value, text}].
        if (Array.isArray(value)) {
            const first = value[0];
            return first === undefined ? null : cleanText(first !== null && typeof first === 'object' ? first.value : first);
        }
        const text = String(value).trim();
        return text === '' || text === '- None -' ? null : text;
    }

    function chunk(values, size) {
        const batches = [];
        for (let start = 0; start < values.length; start += size) batches.push(values.slice(start, start + size));
        return batches;
    }

    function uniqueInOrder(values) {
        const seen = new Set();
        return values.filter((value) => {
            if (seen.has(value)) return false;
            seen.add(value);
            return true;
        });
    }

    const byNumericId = (left, right) => Number(left) - Number(right);

    // ---------------------------------------------------------------- decimals

    /*
     * Money is exact: values are kept as integer units at a decimal scale, never as binary floats.
     * Search values arrive as strings such as "-100.00", ".5" or "1,234.50".
     */
    const DECIMAL_INPUT = /^([+-])?(\d*)(?:\.(\d*))?$/;
    const ZERO = Object.freeze({ units: 0, scale: 0 });

    function checkedUnits(units) {
        if (!Number.isSafeInteger(units)) {
            fail('UNEXPECTED_ERROR', 'An amount is too large to be handled exactly.', { units: String(units) });
        }
        return units === 0 ? 0 : units;
    }

    function parseDecimal(raw) {
        if (raw === null || raw === undefined || typeof raw === 'boolean') return null;
        const text = String(raw).trim().replace(/,/g, '');
        const match = DECIMAL_INPUT.exec(text);
        if (!match) return null;
        const whole = match[2] || '';
        const fraction = match[3] || '';
        if (whole === '' && fraction === '') return null;
        const units = Number(whole + fraction) * (match[1] === '-' ? -1 : 1);
        return { units: checkedUnits(units), scale: fraction.length };
    }

    function rescale(value, scale) {
        return { units: checkedUnits(value.units * Math.pow(10, scale - value.scale)), scale };
    }

    function addDecimals(left, right) {
        const scale = Math.max(left.scale, right.scale);
        return { units: checkedUnits(rescale(left, scale).units + rescale(right, scale).units), scale };
    }

    const sumDecimals = (values) => values.reduce(addDecimals, ZERO);
    const negateDecimal = (value) => ({ units: value.units === 0 ? 0 : -value.units, scale: value.scale });
    const absoluteDecimal = (value) => ({ units: Math.abs(value.units), scale: value.scale });
    const signOf = (value) => Math.sign(value.units);
    const decimalsEqual = (left, right) => addDecimals(left, negateDecimal(right)).units === 0;
    const withSign = (value, sign) => (sign < 0 ? negateDecimal(absoluteDecimal(value)) : absoluteDecimal(value));

    /** The wire form: a plain decimal string ("-12.50"), at least `minScale` decimals. */
    function formatDecimal(value, minScale) {
        const scaled = value.scale < (minScale || 0) ? rescale(value, minScale) : value;
        let digits = String(Math.abs(scaled.units));
        if (scaled.scale > 0) {
            digits = digits.padStart(scaled.scale + 1, '0');
            digits = `${digits.slice(0, -scaled.scale)}.${digits.slice(-scaled.scale)}`;
        }
        return (scaled.units < 0 ? '-' : '') + digits;
    }

    const money = (value) => formatDecimal(value, 2);
    const orZero = (raw) => parseDecimal(raw) || ZERO;

    // ---------------------------------------------------------------- dates

    const isDate = (value) => Object.prototype.toString.call(value) === '[object Date]' && !Number.isNaN(value.getTime());
    const pad = (number, width) => String(number).padStart(width, '0');

    function unreadableDate(field, header, value) {
        return new RefundSyncError(
            'UNEXPECTED_ERROR',
            `NetSuite returned ${field} ${JSON.stringify(value)} for ${cleanText(header.tranId) || `id ${header.id}`}, which is not a date ` +
                "in the account's date format preference.",
            { id: String(header.id), field, value }
        );
    }

    /**
     * A transaction date as YYYY-MM-DD. N/format parses a date into local midnight of the script's
     * time zone, so the calendar fields are read locally (reading them in UTC could shift the day).
     */
    function isoDate(parsed, field, header) {
        if (!isDate(parsed)) throw unreadableDate(field, header, parsed);
        return `${pad(parsed.getFullYear(), 4)}-${pad(parsed.getMonth() + 1, 2)}-${pad(parsed.getDate(), 2)}`;
    }

    /** An instant as ISO 8601 UTC without milliseconds: N/format already applied the user's time zone. */
    function isoInstant(parsed, field, header) {
        if (!isDate(parsed)) throw unreadableDate(field, header, parsed);
        return parsed.toISOString().replace(/\.\d{3}Z$/, 'Z');
    }

    // ---------------------------------------------------------------- request validation

    function parseBody(raw) {
        if (typeof raw === 'string') {
            try {
                return { body: JSON.parse(raw), wasText: true };
            } catch (parseError) {
                return fail('INVALID_REQUEST', 'The request body is not valid JSON. Send a JSON object with Content-Type: application/json.', {
                    parseError: String(parseError && parseError.message),
                });
            }
        }
        return { body: raw, wasText: false };
    }

    /**
     * Checks the parts every request shares. The version is checked first: a client speaking
     * another version must learn that, not that some field is unknown.
     */
    function checkEnvelope(body, method) {
        if (!isPlainObject(body)) {
            fail('INVALID_REQUEST', 'The request body must be a JSON object.', { received: Array.isArray(body) ? 'array' : typeof body });
        }
        if (body.version !== undefined && body.version !== CONTRACT_VERSION) {
            fail(
                'UNSUPPORTED_VERSION',
                `This RESTlet speaks contract version ${CONTRACT_VERSION}; the request asked for version ${JSON.stringify(body.version)}. ` +
                    'Deploy the script that matches the client, or update the client.',
                { supportedVersions: [CONTRACT_VERSION], requestedVersion: body.version }
            );
        }
        const allowed = method === 'PUT' ? ['writeBack'] : ['page', 'find'];
        const action = body.action === undefined ? allowed[0] : body.action;
        if (!allowed.includes(action)) {
            const hint = ['page', 'find', 'writeBack'].includes(action)
                ? ` Send "${action}" with ${action === 'writeBack' ? 'PUT' : 'POST'}.`
                : '';
            fail('INVALID_REQUEST', `${method} accepts the actions ${allowed.map((name) => `"${name}"`).join(', ')}; got ${JSON.stringify(body.action)}.${hint}`, {
                method,
                action: body.action,
            });
        }
        return action;
    }

    function createProblems() {
        const problems = [];
        return {
            add(field, problem) {
                problems.push({ field, problem });
            },
            raiseIfAny(requestName) {
                if (problems.length) {
                    const summary = problems.map((entry) => `${entry.field}: ${entry.problem}`).join('; ');
                    fail('INVALID_REQUEST', `The ${requestName} request is not valid: ${summary}.`, { problems });
                }
            },
        };
    }

    function checkKnownFields(body, known, problems) {
        Object.keys(body)
            .filter((key) => !known.includes(key))
            .forEach((key) => problems.add(key, 'is not a field of this request'));
    }

    function checkInternalId(value, field, problems) {
        if (typeof value !== 'string' || !INTERNAL_ID.test(value) || value.length > MAX_INTERNAL_ID_LENGTH) {
            problems.add(field, 'must be a NetSuite internal id: a string of digits (at most 20)');
            return false;
        }
        return true;
    }

    function parseDateTime(value) {
        if (typeof value !== 'string' || !DATE_TIME.test(value)) return null;
        const instant = new Date(value.replace(' ', 'T'));
        return Number.isNaN(instant.getTime()) ? null : instant;
    }

    function checkSearchId(body, config, problems) {
        if (body.searchId !== undefined && typeof body.searchId !== 'string') {
            problems.add('searchId', 'must be a string: a saved search script id (customsearch_...) or internal id');
            return null;
        }
        const requested = cleanText(body.searchId);
        return requested || (config && config.savedSearchId) || null;
    }

    /** An empty searchId means the deployment's saved search, so a deployment without one is misconfigured. */
    function requireSearchId(searchId) {
        if (!searchId) {
            fail(
                'CONFIGURATION_ERROR',
                `No saved search to use: the request sends no "searchId" and the deployment parameter "${PARAMETER_LABELS.savedSearch}" ` +
                    `(${PARAMETERS.savedSearch}) is empty. Set it on the script deployment (Customization > Scripting > Script Deployments), ` +
                    'or send "searchId".',
                { parameter: PARAMETERS.savedSearch }
            );
        }
        return searchId;
    }

    /** A PageRequest, normalised: searchId (or the deployment's), afterId, modifiedSince as a Date, pageSize. */
    function validatePageRequest(body, config) {
        const problems = createProblems();
        checkKnownFields(body, ['action', 'version', 'searchId', 'afterId', 'modifiedSince', 'pageSize'], problems);
        const searchId = checkSearchId(body, config, problems);
        const afterId = body.afterId === undefined ? '0' : body.afterId;
        checkInternalId(afterId, 'afterId', problems);
        let modifiedSince = null;
        if (body.modifiedSince !== undefined && body.modifiedSince !== null) {
            modifiedSince = parseDateTime(body.modifiedSince);
            if (!modifiedSince) problems.add('modifiedSince', 'must be an RFC 3339 date-time with a UTC offset, e.g. 2024-03-14T21:05:00Z');
        }
        const pageSize = body.pageSize === undefined ? config.defaultPageSize : body.pageSize;
        if (!Number.isInteger(pageSize) || pageSize < MIN_PAGE_SIZE || pageSize > MAX_PAGE_SIZE) {
            problems.add('pageSize', `must be a whole number from ${MIN_PAGE_SIZE} to ${MAX_PAGE_SIZE}`);
        }
        problems.raiseIfAny('page');
        return { searchId: requireSearchId(searchId), afterId, modifiedSince, pageSize };
    }

    function checkStringList(body, field, problems, itemCheck) {
        const value = body[field];
        if (value === undefined) return [];
        if (!Array.isArray(value)) {
            problems.add(field, 'must be a list');
            return [];
        }
        if (value.length > MAX_QUERY_VALUES) problems.add(field, `holds ${value.length} values; at most ${MAX_QUERY_VALUES} per call`);
        const valid = value.filter((item, index) => itemCheck(item, `${field}[${index}]`));
        return uniqueInOrder(valid);
    }

    /** A FindRequest, normalised: searchId plus de-duplicated ids, tranIds and orderIds (one at least). */
    function validateFindRequest(body, config) {
        const problems = createProblems();
        checkKnownFields(body, ['action', 'version', 'searchId', 'ids', 'tranIds', 'orderIds'], problems);
        const searchId = checkSearchId(body, config, problems);
        const textCheck = (item, field) => {
            if (typeof item !== 'string' || cleanText(item) === null) {
                problems.add(field, 'must be a non-empty string');
                return false;
            }
            return true;
        };
        const ids = checkStringList(body, 'ids', problems, (item, field) => checkInternalId(item, field, problems));
        const tranIds = checkStringList(body, 'tranIds', problems, textCheck).map((item) => item.trim());
        const orderIds = checkStringList(body, 'orderIds', problems, textCheck).map((item) => item.trim());
        if (!ids.length && !tranIds.length && !orderIds.length && !problems.length) {
            problems.add('ids, tranIds, orderIds', 'give at least one value to look up');
        }
        problems.raiseIfAny('find');
        return { searchId: requireSearchId(searchId), ids, tranIds: uniqueInOrder(tranIds), orderIds: uniqueInOrder(orderIds) };
    }

    /** A WriteBackRequest, normalised; syncedAt becomes a Date. */
    function validateWriteBackRequest(body) {
        const problems = createProblems();
        checkKnownFields(body, ['action', 'version', 'id', 'recordType', 'bigcommerceRefundId', 'status', 'message', 'syncedAt'], problems);
        if (body.id === undefined) problems.add('id', 'is required');
        else checkInternalId(body.id, 'id', problems);
        if (!Object.prototype.hasOwnProperty.call(TYPE_CODE_BY_RECORD_TYPE, body.recordType)) {
            problems.add('recordType', 'must be "cashrefund" or "creditmemo"');
        }
        const refundId = body.bigcommerceRefundId === undefined ? null : body.bigcommerceRefundId;
        if (refundId !== null && typeof refundId !== 'string') problems.add('bigcommerceRefundId', 'must be a string or null');
        if (typeof body.status !== 'string') problems.add('status', 'is required: a string');
        else if (characterCount(body.status) > MAX_STATUS_LENGTH) problems.add('status', `must be at most ${MAX_STATUS_LENGTH} characters`);
        const message = body.message === undefined ? null : body.message;
        if (message !== null && typeof message !== 'string') problems.add('message', 'must be a string or null');
        else if (message !== null && characterCount(message) > MAX_MESSAGE_LENGTH) {
            problems.add('message', `must be at most ${MAX_MESSAGE_LENGTH} characters`);
        }
        const syncedAt = parseDateTime(body.syncedAt);
        if (!syncedAt) problems.add('syncedAt', 'is required: an RFC 3339 date-time with a UTC offset');
        problems.raiseIfAny('writeBack');
        return { id: body.id, recordType: body.recordType, bigcommerceRefundId: refundId, status: body.status, message, syncedAt };
    }

    // ---------------------------------------------------------------- configuration

    /**
     * The deployment parameters, checked. `readParameter(id)` returns a parameter's value.
     * A field parameter must look like a NetSuite field id: a typo here would otherwise surface
     * later as an obscure search error on every call.
     */
    function readConfig(readParameter) {
        const problems = [];
        const fieldParameter = (key, fallback) => {
            const value = cleanText(readParameter(PARAMETERS[key]));
            if (value === null) return fallback;
            const fieldId = value.toLowerCase();
            if (!FIELD_ID.test(fieldId)) {
                problems.push({ parameter: PARAMETERS[key], label: PARAMETER_LABELS[key], value });
                return fallback;
            }
            return fieldId;
        };
        const config = {
            savedSearchId: cleanText(readParameter(PARAMETERS.savedSearch)),
            orderIdField: fieldParameter('orderIdField', null),
            skuField: fieldParameter('skuField', 'itemid'),
            lineIdField: fieldParameter('lineIdField', null),
            productIdField: fieldParameter('productIdField', null),
            variantIdField: fieldParameter('variantIdField', null),
            loopGuardField: fieldParameter('loopGuardField', null),
            defaultPageSize: FALLBACK_PAGE_SIZE,
        };
        const pageSizeValue = cleanText(readParameter(PARAMETERS.defaultPageSize));
        if (pageSizeValue !== null) {
            config.defaultPageSize = Number(pageSizeValue);
            if (!Number.isInteger(config.defaultPageSize) || config.defaultPageSize < MIN_PAGE_SIZE || config.defaultPageSize > MAX_PAGE_SIZE) {
                problems.push({ parameter: PARAMETERS.defaultPageSize, label: PARAMETER_LABELS.defaultPageSize, value: pageSizeValue });
            }
        }
        if (problems.length) {
            const listed = problems.map((entry) => `"${entry.label}" (${entry.parameter}) = ${JSON.stringify(entry.value)}`).join('; ');
            fail(
                'CONFIGURATION_ERROR',
                `The RESTlet deployment is misconfigured: ${listed}. Field parameters take a field id such as ` +
                    `custbody_fa_channel_order; the page size is a whole number from ${MIN_PAGE_SIZE} to ${MAX_PAGE_SIZE}. ` +
                    'Fix them on the script deployment (Customization > Scripting > Script Deployments).',
                { misconfigured: problems }
            );
        }
        return config;
    }

    /** The configured field ids, for error details that point an admin at the right parameter. */
    function describeConfig(config) {
        if (!config) return null;
        const described = {};
        ['orderIdField', 'skuField', 'lineIdField', 'productIdField', 'variantIdField', 'loopGuardField'].forEach((key) => {
            described[PARAMETERS[key]] = config[key];
        });
        return described;
    }

    // ---------------------------------------------------------------- filters

    const refundTypeFilter = () => ['type', 'anyof', REFUND_TYPE_CODES.slice()];
    const idFilter = (ids) => ['internalid', 'anyof', ids.slice()];

    /** Conjoin a saved search's own criteria (kept as one parenthesised group) with more terms. */
    function combineFilters(baseExpression, extraTerms) {
        const expression = [];
        if (Array.isArray(baseExpression) && baseExpression.length) expression.push(baseExpression);
        extraTerms.forEach((term) => {
            if (expression.length) expression.push('AND');
            expression.push(term);
        });
        return expression;
    }

    function andAll(terms) {
        return combineFilters(null, terms);
    }

    function orAll(terms) {
        const expression = [];
        terms.forEach((term) => {
            if (expression.length) expression.push('OR');
            expression.push(term);
        });
        return expression;
    }

    /**
     * The terms a page adds to the saved search: refunds only, keyset on internal id, and the
     * last-modified lower bound. `modifiedSinceText` is the instant already formatted the way the
     * account's date/time preference wants it (N/format); NetSuite compares it to the minute, so
     * "on or after" includes the whole starting minute.
     */
    function pageFilterTerms(afterId, modifiedSinceText) {
        const terms = [refundTypeFilter(), ['internalidnumber', 'greaterthan', afterId]];
        if (modifiedSinceText) terms.push(['lastmodifieddate', 'onorafter', modifiedSinceText]);
        return terms;
    }

    /** Transactions whose order-id field holds one of `values`, with the operator the field's kind needs. */
    function orderIdFilter(field, values) {
        if (field === 'externalid') return ['externalid', 'anyof', values.slice()];
        const operator = field === 'otherrefnum' ? 'equalto' : 'is';
        return orAll(values.map((value) => [field, operator, value]));
    }

    function tranIdFilter(tranIds) {
        return orAll(tranIds.map((tranId) => ['tranid', 'is', tranId]));
    }

    // ---------------------------------------------------------------- columns

    /*
     * Column specs: `key` names the value in a plain row object; name/join/summary/sort are the
     * N/search column; `text: true` reads the display text instead of the value.
     */
    function selectionColumnSpecs() {
        return [{ key: 'id', name: 'internalid', summary: 'GROUP', sort: 'ASC' }];
    }

    function headerColumnSpecs(config) {
        const specs = [
            { key: 'id', name: 'internalid' },
            { key: 'typeCode', name: 'type' },
            { key: 'tranId', name: 'tranid' },
            { key: 'tranDate', name: 'trandate' },
            { key: 'lastModified', name: 'lastmodifieddate' },
            { key: 'memo', name: 'memomain' },
            { key: 'customerName', name: 'entity', text: true },
            { key: 'currency', name: 'symbol', join: 'currency' },
            // fxamount is in the transaction's currency; the header total of a refund is negative.
            { key: 'total', name: 'fxamount' },
            { key: 'taxTotal', name: 'taxtotal' },
            // NetSuite's "Amount (Shipping)" holds shipping and handling together.
            { key: 'shipping', name: 'shippingamount' },
            { key: 'discount', name: 'discountamount' },
            { key: 'createdFromId', name: 'createdfrom' },
            { key: 'createdFromTypeCode', name: 'type', join: 'createdfrom' },
            { key: 'createdFromTranId', name: 'tranid', join: 'createdfrom' },
            { key: 'externalId', name: 'externalid' },
            { key: 'source', name: 'source' },
            { key: 'paymentMethod', name: 'paymentmethod', text: true },
            { key: 'pnRefNum', name: 'pnrefnum' },
            { key: 'otherRefNum', name: 'otherrefnum' },
        ];
        if (config.orderIdField) {
            specs.push({ key: 'orderValue', name: config.orderIdField });
            specs.push({ key: 'createdFromOrderValue', name: config.orderIdField, join: 'createdfrom' });
        }
        if (config.loopGuardField) specs.push({ key: 'loopGuard', name: config.loopGuardField });
        return specs;
    }

    function lineColumnSpecs(config) {
        const specs = [
            { key: 'refundId', name: 'internalid', sort: 'ASC' },
            { key: 'line', name: 'line', sort: 'ASC' },
            { key: 'itemId', name: 'item' },
            { key: 'itemName', name: 'item', text: true },
            { key: 'itemType', name: 'type', join: 'item' },
            { key: 'sku', name: config.skuField || 'itemid', join: 'item' },
            { key: 'description', name: 'memo' },
            { key: 'quantity', name: 'quantity' },
            { key: 'rate', name: 'rate' },
            { key: 'amount', name: 'fxamount' },
            { key: 'taxAmount', name: 'taxamount' },
        ];
        if (config.lineIdField) specs.push({ key: 'bigcommerceLineId', name: config.lineIdField });
        if (config.productIdField) specs.push({ key: 'bigcommerceProductId', name: config.productIdField });
        if (config.variantIdField) specs.push({ key: 'bigcommerceVariantId', name: config.variantIdField });
        return specs;
    }

    /** One hop up the created-from chain: each created-from record's own created-from (the sales order). */
    function hopColumnSpecs(config) {
        const specs = [
            { key: 'id', name: 'internalid' },
            { key: 'parentId', name: 'createdfrom' },
            { key: 'parentTypeCode', name: 'type', join: 'createdfrom' },
            { key: 'parentTranId', name: 'tranid', join: 'createdfrom' },
        ];
        if (config.orderIdField) specs.push({ key: 'parentOrderValue', name: config.orderIdField, join: 'createdfrom' });
        return specs;
    }

    function customerRefundColumnSpecs() {
        return [
            { key: 'id', name: 'internalid' },
            { key: 'tranId', name: 'tranid' },
            { key: 'appliedToId', name: 'appliedtotransaction' },
        ];
    }

    const headerFilters = (ids) => andAll([idFilter(ids), ['mainline', 'is', 'T']]);
    // Item rows only: the header row, tax rows, shipping rows and COGS rows are left out.
    const lineFilters = (ids) =>
        andAll([idFilter(ids), ['mainline', 'is', 'F'], ['taxline', 'is', 'F'], ['shipping', 'is', 'F'], ['cogs', 'is', 'F']]);
    const customerRefundFilters = (creditMemoIds) =>
        andAll([['type', 'anyof', [CUSTOMER_REFUND_TYPE_CODE]], ['appliedtotransaction', 'anyof', creditMemoIds.slice()], ['voided', 'is', 'F']]);

    // ---------------------------------------------------------------- transaction references

    function recordTypeOf(typeCode) {
        const code = cleanText(typeCode);
        if (!code) return null;
        return RECORD_TYPE_BY_TYPE_CODE[code] || code.toLowerCase();
    }

    function transactionRef(id, typeCode, tranId) {
        const cleanId = cleanText(id);
        if (!cleanId) return null;
        return { id: cleanId, type: recordTypeOf(typeCode) || 'transaction', tranId: cleanText(tranId) };
    }

    const isRefundTypeCode = (typeCode) => REFUND_TYPE_CODES.includes(cleanText(typeCode));

    function refLabel(ref) {
        return ref.tranId || `${ref.type} ${ref.id}`;
    }

    // ---------------------------------------------------------------- order id

    /**
     * The BigCommerce order id: the configured field on the refund, else on its created-from
     * record (invoice, cash sale, return authorization), else on that record's sales order.
     * `hops` lists {ref, value} in that order; the answer names where it was found.
     */
    function resolveOrderId(field, hops) {
        if (!field) return { orderId: null, source: null };
        for (const hop of hops) {
            if (!hop || !hop.ref) continue;
            const value = cleanText(hop.value);
            if (value) return { orderId: value, source: `${field} on ${refLabel(hop.ref)}` };
        }
        return { orderId: null, source: null };
    }

    // ---------------------------------------------------------------- paid out

    /*
     * The paid-out rule: did NetSuite itself already give the money back, so BigCommerce must
     * record the refund without paying it again?
     * - Cash refund with a payment processing reference (P/N Ref.): NetSuite's payment gateway
     *   approved and sent the card refund -> payment_gateway, reference = that reference.
     * - Cash refund whose payment method is a check/cheque -> check, reference = the
     *   "PO/Check Number" (unless that field is the configured order-id field).
     * - Credit memo applied by a Customer Refund (not voided) -> customer_refund, reference = the
     *   customer refund document number(s).
     * - Anything else (a credit memo left open or applied to invoices, a cash refund with another
     *   method and no gateway reference) -> not paid by NetSuite.
     */
    function paidOutRule(facts) {
        const notPaid = { byNetsuite: false, method: null, reference: null };
        if (facts.recordType === 'cashrefund') {
            const gatewayReference = cleanText(facts.pnRefNum);
            if (gatewayReference) return { byNetsuite: true, method: 'payment_gateway', reference: gatewayReference };
            if (CHECK_PAYMENT_METHOD.test(cleanText(facts.paymentMethod) || '')) {
                return { byNetsuite: true, method: 'check', reference: cleanText(facts.checkNumber) };
            }
            return notPaid;
        }
        if (facts.recordType === 'creditmemo') {
            const refunds = (facts.customerRefunds || []).filter((refund) => refund && cleanText(refund.id));
            if (refunds.length) {
                const labels = uniqueInOrder(refunds.map((refund) => cleanText(refund.tranId) || `customer refund ${refund.id}`));
                return { byNetsuite: true, method: 'customer_refund', reference: labels.join(', ') };
            }
        }
        return notPaid;
    }

    // ---------------------------------------------------------------- assembly

    /**
     * One item row, signs normalised: `sign` turns NetSuite's refund sign (negative amounts) into
     * the contract's (refunded money positive, discounts negative). Tax and rate follow the sign of
     * their line's amount.
     */
    function assembleLine(row, sign) {
        const rawAmount = orZero(row.amount);
        const amount = sign < 0 ? negateDecimal(rawAmount) : rawAmount;
        const lineSign = signOf(amount) < 0 ? -1 : 1;
        const rawRate = cleanText(row.rate);
        const rate = rawRate && !rawRate.includes('%') ? parseDecimal(rawRate) : null;
        const quantity = parseDecimal(row.quantity);
        return {
            line: Number(row.line) || 0,
            itemId: cleanText(row.itemId) || '0',
            itemName: cleanText(row.itemName) || cleanText(row.sku) || `Item ${cleanText(row.itemId) || '?'}`,
            itemType: cleanText(row.itemType) || 'Unknown',
            sku: cleanText(row.sku),
            description: cleanText(row.description),
            quantity: quantity ? formatDecimal(absoluteDecimal(quantity), 0) : null,
            rate: rate ? money(withSign(rate, lineSign)) : null,
            amount: money(amount),
            taxAmount: money(withSign(orZero(row.taxAmount), lineSign)),
            bigcommerceLineId: cleanText(row.bigcommerceLineId),
            bigcommerceProductId: cleanText(row.bigcommerceProductId),
            bigcommerceVariantId: cleanText(row.bigcommerceVariantId),
        };
    }

    const isMonetaryRow = (row) => !NON_MONETARY_ITEM_TYPES.includes(cleanText(row.itemType));

    /**
     * A whole refund from its header row, its item rows, the created-from chain and the customer
     * refunds paying it out. Returns the contract's NetSuiteRefund plus whether the total
     * invariant holds:
     *   total = sum(line.amount + line.taxAmount) + shipping + shippingTax + handling + handlingTax
     *
     * Header amounts are taken as magnitudes (total, tax, shipping positive; discount negative).
     * The header discount becomes a synthetic line 0, item "0" named "Discount", unless NetSuite
     * already lists it among the item rows (then the amounts add up without it). Tax NetSuite
     * did not put on an item line is the shipping tax when there is shipping, else the synthetic
     * discount line's tax; otherwise it stays unassigned and the refund is reported inconsistent
     * (never balanced by an invented figure).
     */
    function assembleRefund(parts, config) {
        const header = parts.header;
        const recordType = recordTypeOf(header.typeCode);
        const rawTotal = orZero(header.total);
        // NetSuite reports a refund's amounts negative; a positive total means the opposite convention.
        const sign = signOf(rawTotal) > 0 ? 1 : -1;
        const total = absoluteDecimal(rawTotal);
        const taxTotal = absoluteDecimal(orZero(header.taxTotal));
        const shipping = absoluteDecimal(orZero(header.shipping));
        const headerDiscount = negateDecimal(absoluteDecimal(orZero(header.discount)));

        const lines = (parts.lines || []).filter(isMonetaryRow).map((row) => assembleLine(row, sign));
        const amounts = lines.map((line) => parseDecimal(line.amount));
        const subtotal = sumDecimals(amounts);
        const lineTax = sumDecimals(lines.map((line) => parseDecimal(line.taxAmount)));

        let discountLine = null;
        if (signOf(headerDiscount) !== 0) {
            const withoutHeaderDiscount = sumDecimals([subtotal, shipping, taxTotal]);
            if (!decimalsEqual(withoutHeaderDiscount, total)) {
                discountLine = {
                    line: 0,
                    itemId: '0',
                    itemName: 'Discount',
                    itemType: 'Discount',
                    sku: null,
                    description: 'Header discount of the NetSuite refund',
                    quantity: null,
                    rate: null,
                    amount: money(headerDiscount),
                    taxAmount: money(ZERO),
                    bigcommerceLineId: null,
                    bigcommerceProductId: null,
                    bigcommerceVariantId: null,
                };
            }
        }

        const unassignedTax = addDecimals(taxTotal, negateDecimal(lineTax));
        let shippingTax = ZERO;
        if (signOf(unassignedTax) !== 0) {
            if (signOf(shipping) !== 0) shippingTax = unassignedTax;
            else if (discountLine) discountLine.taxAmount = money(unassignedTax);
        }
        const allLines = discountLine ? [discountLine].concat(lines) : lines;

        const computedTotal = sumDecimals(
            allLines.map((line) => addDecimals(parseDecimal(line.amount), parseDecimal(line.taxAmount))).concat([shipping, shippingTax])
        );
        const difference = addDecimals(total, negateDecimal(computedTotal));

        const createdFrom = transactionRef(header.createdFromId, header.createdFromTypeCode, header.createdFromTranId);
        let salesOrder = null;
        let salesOrderValue = null;
        if (createdFrom && createdFrom.type === 'salesorder') {
            salesOrder = createdFrom;
            salesOrderValue = header.createdFromOrderValue;
        } else if (parts.hop) {
            salesOrder = transactionRef(parts.hop.parentId, parts.hop.parentTypeCode, parts.hop.parentTranId);
            salesOrderValue = parts.hop.parentOrderValue;
        }
        const refundRef = { id: String(header.id), type: recordType, tranId: cleanText(header.tranId) };
        const order = resolveOrderId(config.orderIdField, [
            { ref: refundRef, value: header.orderValue },
            { ref: createdFrom, value: header.createdFromOrderValue },
            { ref: salesOrder, value: salesOrderValue },
        ]);

        const currency = (cleanText(header.currency) || '').toUpperCase();
        if (!/^[A-Z]{3}$/.test(currency)) {
            fail(
                'UNEXPECTED_ERROR',
                `${cleanText(header.tranId) || `Refund ${header.id}`} is in a currency whose ISO code NetSuite reports as ` +
                    `${JSON.stringify(header.currency)}. Set the three-letter ISO code on the currency record (Lists > Accounting > Currencies).`,
                { id: String(header.id), currency: header.currency }
            );
        }

        const refund = {
            id: String(header.id),
            recordType,
            tranId: cleanText(header.tranId) || String(header.id),
            tranDate: header.tranDate,
            lastModified: header.lastModified,
            currency,
            subtotal: money(subtotal),
            taxTotal: money(taxTotal),
            discountTotal: money(headerDiscount),
            shippingAmount: money(shipping),
            shippingTax: money(shippingTax),
            handlingAmount: money(ZERO),
            handlingTax: money(ZERO),
            total: money(total),
            memo: cleanText(header.memo),
            customerName: cleanText(header.customerName),
            bigcommerceOrderId: order.orderId,
            orderIdSource: order.source,
            createdFrom,
            salesOrder,
            lines: allLines,
            paidOut: paidOutRule({
                recordType,
                pnRefNum: header.pnRefNum,
                paymentMethod: header.paymentMethod,
                checkNumber: config.orderIdField === 'otherrefnum' ? null : header.otherRefNum,
                customerRefunds: parts.customerRefunds,
            }),
            origin: {
                externalId: cleanText(header.externalId),
                source: cleanText(header.source),
                channelRefundId: cleanText(header.loopGuard),
            },
        };
        return { refund, consistent: difference.units === 0, difference: money(difference) };
    }

    // ---------------------------------------------------------------- find diagnostics

    const REASON_MESSAGES = Object.freeze({
        NO_SUCH_TRANSACTION: (kind, value) =>
            kind === 'id'
                ? `No transaction has internal id ${value}. Check the id, or whether the record was deleted.`
                : `No transaction has document number ${value}. Check the number (Refund # / Credit #), or whether the record was deleted.`,
        NOT_A_REFUND: (kind, value, found) =>
            `${kind === 'id' ? 'Internal id' : 'Document number'} ${value} belongs to ${found.join(', ')}, not to a cash refund or credit memo. ` +
            'Only Cash Refunds and Credit Memos are exported.',
        ORDER_NOT_SYNCED: (kind, value, field) =>
            `No sales order carries BigCommerce order id ${value} in ${field}: the order was not synced from BigCommerce, ` +
            `or the connector stores the id in another field (deployment parameter "${PARAMETER_LABELS.orderIdField}").`,
        NO_REFUND_FOR_ORDER: (kind, value, orders, billed) =>
            `${orders.join(', ')} carries BigCommerce order id ${value}, but no cash refund or credit memo was created from ` +
            (billed.length ? `its billed records (${billed.join(', ')})` : 'it: the order has no invoice, cash sale or return authorization yet') +
            '. Refund it in NetSuite from the invoice, cash sale or return authorization.',
        OUTSIDE_SAVED_SEARCH: (kind, value, refunds, searchId) =>
            `${refunds.join(', ')} exists, but saved search ${searchId} excludes it. Check the search's criteria ` +
            `(for example the "${EXCLUDE_FIELD}" exclude checkbox, a date range or a status filter).`,
    });

    function notFoundReason(code, kind, value, ...facts) {
        return { code, message: REASON_MESSAGES[code](kind, value, ...facts) };
    }

    // ---------------------------------------------------------------- governance

    /** Remaining-usage bookkeeping: a step runs only if it leaves the reserve untouched. */
    function createBudget(remainingUsage, reserve) {
        const kept = reserve === undefined ? USAGE_RESERVE : reserve;
        return {
            remaining: () => remainingUsage(),
            canAfford: (cost) => remainingUsage() - cost >= kept,
        };
    }

    function usageLimitError(step, remaining) {
        return new RefundSyncError(
            'USAGE_LIMIT',
            `Not enough governance units left to ${step} (${remaining} left). Ask for fewer values per call.`,
            { remainingUsage: remaining }
        );
    }

    // NetSuite's names for "that record does not exist (as that type)".
    const RECORD_MISSING_ERRORS = /^(RCRD_DSNT_EXIST|INVALID_RCRD_TYPE|SSS_INVALID_TYPE_ARG|INVALID_KEY_OR_REF|SSS_INVALID_RECORD_TYPE)$/;
    const isRecordMissingError = (thrown) => Boolean(thrown) && RECORD_MISSING_ERRORS.test(String(thrown.name));

    // ---------------------------------------------------------------- responses and errors

    function pageResponse(refunds, paging, remainingUsage) {
        return { action: 'page', version: CONTRACT_VERSION, refunds, paging, remainingUsage };
    }

    function findResponse(refunds, notFound) {
        return { action: 'find', version: CONTRACT_VERSION, refunds, notFound };
    }

    function writeBackResponse(id, updated) {
        return { action: 'writeBack', version: CONTRACT_VERSION, id, updated };
    }

    function errorResponse(code, message, details) {
        return { version: CONTRACT_VERSION, error: { code, message, details: details === undefined ? null : details } };
    }

    const SEARCH_DEFINITION_ERRORS = /^(SSS_)?INVALID_SRCH/;
    const PERMISSION_ERRORS = /PERMISSION|NOT_ALLOWED|INSUFFICIENT/;

    /**
     * Any thrown value as an ErrorResponse with a message a person can act on. NetSuite's own
     * errors (SuiteScriptError: name + message) keep their name in the details.
     */
    function describeError(thrown, config) {
        if (thrown && thrown.isRefundSyncError) return errorResponse(thrown.code, thrown.message, thrown.details);
        const name = String((thrown && thrown.name) || 'Error');
        const message = String((thrown && thrown.message) || thrown);
        const details = { netsuiteError: name, netsuiteMessage: message };
        if (name === 'SSS_USAGE_LIMIT_EXCEEDED') {
            return errorResponse('USAGE_LIMIT', `NetSuite stopped the script at its usage limit: ${message} Ask for fewer values per call.`, details);
        }
        if (SEARCH_DEFINITION_ERRORS.test(name)) {
            // A field named in the deployment parameters that this account does not have.
            details.parameters = describeConfig(config);
            return errorResponse(
                'CONFIGURATION_ERROR',
                `NetSuite rejected a search field or filter (${name}: ${message}). Check that every field named in the deployment ` +
                    'parameters exists in this account and is available to searches.',
                details
            );
        }
        if (PERMISSION_ERRORS.test(name)) {
            return errorResponse(
                'UNEXPECTED_ERROR',
                `The role calling the RESTlet lacks a permission (${name}: ${message}). Give the integration role the permissions listed in the README.`,
                details
            );
        }
        return errorResponse('UNEXPECTED_ERROR', `NetSuite raised ${name}: ${message}`, details);
    }

    // ---------------------------------------------------------------- sample saved search

    /** The definition the installation script gives customsearch_rs_refunds; CONTRACT.md explains each term. */
    function sampleSavedSearchDefinition() {
        return {
            id: DEFAULT_SAVED_SEARCH_ID,
            title: 'refund-sync: refunds to send to BigCommerce',
            type: 'transaction',
            filters: andAll([refundTypeFilter(), ['mainline', 'is', 'T'], ['voided', 'is', 'F'], [EXCLUDE_FIELD, 'is', 'F']]),
            columns: [
                { name: 'internalid', sort: 'ASC' },
                { name: 'type' },
                { name: 'tranid' },
                { name: 'trandate' },
                { name: 'entity' },
                { name: 'fxamount' },
                { name: 'lastmodifieddate' },
            ],
        };
    }

    return {
        CONTRACT_VERSION,
        MIN_PAGE_SIZE,
        MAX_PAGE_SIZE,
        DEFAULT_SAVED_SEARCH_ID,
        EXCLUDE_FIELD,
        WRITE_BACK_FIELDS,
        PARAMETERS,
        REFUND_TYPE_CODES,
        BILLED_TYPE_CODES,
        SALES_ORDER_TYPE_CODE,
        REFUND_SEARCH_TYPES,
        RECORD_TYPE_LABELS,
        TYPE_CODE_BY_RECORD_TYPE,
        COST,
        USAGE_RESERVE,
        GATHER_BATCH_SIZE,
        SEARCH_PAGE_SIZE,
        RefundSyncError,
        cleanText,
        chunk,
        uniqueInOrder,
        byNumericId,
        parseDecimal,
        formatDecimal,
        isoDate,
        isoInstant,
        parseBody,
        checkEnvelope,
        validatePageRequest,
        validateFindRequest,
        validateWriteBackRequest,
        readConfig,
        describeConfig,
        refundTypeFilter,
        idFilter,
        combineFilters,
        andAll,
        pageFilterTerms,
        orderIdFilter,
        tranIdFilter,
        selectionColumnSpecs,
        headerColumnSpecs,
        lineColumnSpecs,
        hopColumnSpecs,
        customerRefundColumnSpecs,
        headerFilters,
        lineFilters,
        customerRefundFilters,
        recordTypeOf,
        transactionRef,
        isRefundTypeCode,
        refLabel,
        resolveOrderId,
        paidOutRule,
        assembleLine,
        assembleRefund,
        notFoundReason,
        createBudget,
        usageLimitError,
        isRecordMissingError,
        pageResponse,
        findResponse,
        writeBackResponse,
        errorResponse,
        describeError,
        sampleSavedSearchDefinition,
    };
});
