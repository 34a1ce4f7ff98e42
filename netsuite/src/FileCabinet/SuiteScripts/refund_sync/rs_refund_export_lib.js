/**
 * Pure rules of the refund export RESTlet, contract version 1 (see netsuite/CONTRACT.md).
 *
 * Everything here works on plain values: request validation, configuration, search filter and
 * column definitions, decimal arithmetic, row -> refund assembly (sign normalisation, amounts in
 * the transaction's currency, legacy tax and SuiteTax, the total invariant), the created-from
 * chain, BigCommerce order-id resolution, the paid-out rule, the find diagnostics, the response
 * envelopes and the saved searches the setup Suitelet creates. The entry points
 * (rs_refund_export_rl.js, rs_setup_sl.js) only run searches and feed rows in, so Jest can
 * exercise every rule without NetSuite.
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
    const MAX_REASON_CODE_LENGTH = 40;
    const MAX_ACTION_LENGTH = 1000;
    const MAX_INTERNAL_ID_LENGTH = 20;

    const DEFAULT_SAVED_SEARCH_ID = 'customsearch_rs_refunds';
    const NOT_SYNCED_SAVED_SEARCH_ID = 'customsearch_rs_refunds_not_synced';
    const EXCLUDE_FIELD = 'custbody_rs_exclude';
    const WRITE_BACK_FIELDS = Object.freeze({
        bigcommerceRefundId: 'custbody_rs_bc_refund_id',
        status: 'custbody_rs_sync_status',
        reasonCode: 'custbody_rs_reason_code',
        message: 'custbody_rs_sync_message',
        whatToDo: 'custbody_rs_what_to_do',
        syncedAt: 'custbody_rs_synced_at',
    });
    // The statuses a person must look at; the "refunds not synced" saved search lists them.
    const NOT_SYNCED_STATUSES = Object.freeze(['FAILED', 'HELD']);

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

    // Feature ids for runtime.isFeatureInEffect: OneWorld (subsidiaries) and SuiteTax.
    const FEATURES = Object.freeze({ oneWorld: 'SUBSIDIARIES', suiteTax: 'tax_overhauling' });

    // Transaction type codes as N/search reports and filters them.
    const TYPE = Object.freeze({
        CASH_REFUND: 'CashRfnd',
        CREDIT_MEMO: 'CustCred',
        INVOICE: 'CustInvc',
        CASH_SALE: 'CashSale',
        RETURN_AUTHORIZATION: 'RtnAuth',
        SALES_ORDER: 'SalesOrd',
        CUSTOMER_REFUND: 'CustRfnd',
    });
    const REFUND_TYPE_CODES = Object.freeze([TYPE.CASH_REFUND, TYPE.CREDIT_MEMO]);
    const BILLED_TYPE_CODES = Object.freeze([TYPE.INVOICE, TYPE.CASH_SALE, TYPE.RETURN_AUTHORIZATION]);
    const SALES_ORDER_TYPE_CODE = TYPE.SALES_ORDER;
    /*
     * The created-from links followed, by record type: what each kind of record can be created from.
     * NetSuite help: a return authorization is created from a sales order, an invoice or a cash sale
     * ("Create a return authorization"; "Use Case for Issuing a Return Authorization from a Cash
     * Sale"); a cash refund from a cash sale or a return authorization, a credit memo from an invoice
     * or a return authorization (REST transforms cashSale -> cashRefund, returnAuthorization ->
     * cashRefund | creditMemo, invoice -> creditMemo). A link of any other kind ends the chain.
     */
    const PARENT_TYPES = Object.freeze({
        [TYPE.CREDIT_MEMO]: Object.freeze([TYPE.INVOICE, TYPE.RETURN_AUTHORIZATION, TYPE.SALES_ORDER]),
        [TYPE.CASH_REFUND]: Object.freeze([TYPE.CASH_SALE, TYPE.RETURN_AUTHORIZATION, TYPE.SALES_ORDER]),
        [TYPE.RETURN_AUTHORIZATION]: Object.freeze([TYPE.INVOICE, TYPE.CASH_SALE, TYPE.SALES_ORDER]),
        [TYPE.INVOICE]: Object.freeze([TYPE.SALES_ORDER]),
        [TYPE.CASH_SALE]: Object.freeze([TYPE.SALES_ORDER]),
    });
    // credit memo <- return authorization <- invoice <- sales order: at most three links above a refund.
    const MAX_CHAIN_LINKS = 3;
    const CHILD_TYPE_CODES = Object.freeze(BILLED_TYPE_CODES.concat(REFUND_TYPE_CODES));
    const RECORD_TYPE_BY_TYPE_CODE = Object.freeze({
        CashRfnd: 'cashrefund',
        CustCred: 'creditmemo',
        CustInvc: 'invoice',
        CashSale: 'cashsale',
        RtnAuth: 'returnauthorization',
        SalesOrd: 'salesorder',
        CustRfnd: 'customerrefund',
    });
    const TYPE_CODE_BY_RECORD_TYPE = Object.freeze({ cashrefund: TYPE.CASH_REFUND, creditmemo: TYPE.CREDIT_MEMO });
    const RECORD_TYPE_LABELS = Object.freeze({ cashrefund: 'Cash Refund', creditmemo: 'Credit Memo' });
    // A saved search can only select refunds if it is a Transaction search or one of the two refund types.
    const REFUND_SEARCH_TYPES = Object.freeze(['transaction', 'cashrefund', 'creditmemo']);

    // Item rows that carry no money of their own (a group's end line repeats its members' total).
    const NON_MONETARY_ITEM_TYPES = Object.freeze(['Description', 'Subtotal', 'Group', 'EndGroup']);
    const DISCOUNT_ITEM_TYPE = 'Discount';
    const CHECK_PAYMENT_METHOD = /\b(check|cheque)\b/i;

    /*
     * SuiteTax tax details that are not about an item line (NetSuite help, "taxdetails": the tax
     * details of shipping carry the reference SHIPPING, those of a separate handling charge
     * HANDLING; their line type names the kind of line). Shipping and handling are reported
     * together, as the shipping amount is.
     */
    const SHIPPING_TAX_REFERENCES = Object.freeze(['SHIPPING', 'HANDLING']);
    const SHIPPING_TAX_LINE_TYPES = /^(shipping|handling)$/i;

    // SuiteScript governance units (NetSuite Help: N/search and N/record method governance;
    // record.load and record.submitFields cost 10 units on transaction records).
    const COST = Object.freeze({ LOAD: 5, RUN_PAGED: 5, FETCH: 5, LOOKUP_FIELDS: 1, SUBMIT_FIELDS: 10, LOAD_RECORD: 10, SAVE_SEARCH: 5 });
    // Units kept back for building the response and logging once the last search has run.
    const USAGE_RESERVE = 20;
    // Refunds gathered per batch of searches: large enough for few searches, small enough that a
    // page cut short by governance still returns whole batches and the next call makes progress.
    // With SuiteTax every refund's record is loaded for its tax details, so batches are smaller.
    const GATHER_BATCH_SIZE = 250;
    const SUITETAX_BATCH_SIZE = 50;
    const SEARCH_PAGE_SIZE = 1000;

    const FIELD_ID = /^[a-z][a-z0-9_]{0,99}$/;
    const INTERNAL_ID = /^[0-9]+$/;
    const REASON_CODE = /^[A-Z][A-Z0-9_]*$/;
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

    function checkOptionalText(body, field, maxLength, problems) {
        const value = body[field] === undefined ? null : body[field];
        if (value !== null && typeof value !== 'string') problems.add(field, 'must be a string or null');
        else if (value !== null && characterCount(value) > maxLength) problems.add(field, `must be at most ${maxLength} characters`);
        return typeof value === 'string' ? value : null;
    }

    /**
     * A WriteBackRequest, normalised; syncedAt becomes a Date. reasonCode and action (what a
     * person should do) come with FAILED and HELD outcomes; both are optional so a client that
     * predates them still writes SYNCED.
     */
    function validateWriteBackRequest(body) {
        const problems = createProblems();
        checkKnownFields(
            body,
            ['action', 'version', 'id', 'recordType', 'bigcommerceRefundId', 'status', 'reasonCode', 'message', 'whatToDo', 'syncedAt'],
            problems
        );
        if (body.id === undefined) problems.add('id', 'is required');
        else checkInternalId(body.id, 'id', problems);
        if (!Object.prototype.hasOwnProperty.call(TYPE_CODE_BY_RECORD_TYPE, body.recordType)) {
            problems.add('recordType', 'must be "cashrefund" or "creditmemo"');
        }
        const refundId = body.bigcommerceRefundId === undefined ? null : body.bigcommerceRefundId;
        if (refundId !== null && typeof refundId !== 'string') problems.add('bigcommerceRefundId', 'must be a string or null');
        if (typeof body.status !== 'string') problems.add('status', 'is required: a string');
        else if (characterCount(body.status) > MAX_STATUS_LENGTH) problems.add('status', `must be at most ${MAX_STATUS_LENGTH} characters`);
        const reasonCode = checkOptionalText(body, 'reasonCode', MAX_REASON_CODE_LENGTH, problems);
        if (reasonCode !== null && !REASON_CODE.test(reasonCode)) problems.add('reasonCode', 'must be a reason code such as ORDER_NOT_FOUND');
        const message = checkOptionalText(body, 'message', MAX_MESSAGE_LENGTH, problems);
        const whatToDo = checkOptionalText(body, 'whatToDo', MAX_ACTION_LENGTH, problems);
        const syncedAt = parseDateTime(body.syncedAt);
        if (!syncedAt) problems.add('syncedAt', 'is required: an RFC 3339 date-time with a UTC offset');
        problems.raiseIfAny('writeBack');
        return { id: body.id, recordType: body.recordType, bigcommerceRefundId: refundId, status: body.status, reasonCode, message, whatToDo, syncedAt };
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
            oneWorld: false,
            suiteTax: false,
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

    /** The account features the export depends on; `isFeatureInEffect(id)` answers runtime's question. */
    function readFeatures(isFeatureInEffect) {
        const on = (id) => {
            const answer = isFeatureInEffect(id);
            return answer === true || answer === 'T';
        };
        return { oneWorld: on(FEATURES.oneWorld), suiteTax: on(FEATURES.suiteTax) };
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

    /*
     * Search settings for the searches that read amounts. In OneWorld the columns without
     * "(Foreign Currency)" are consolidated into the parent's base currency unless the search's
     * Consolidated Exchange Rate is None (NetSuite help, "search.Setting" and
     * "search.createSetting(options)": consolidationtype, transaction searches, OneWorld only).
     * Every figure the refund reports comes from the transaction-currency column fxamount; the
     * base-currency tax columns are only used as proportions, but unconsolidated they are at
     * least the subsidiary's own figures. The setting is OneWorld only, so it is not sent elsewhere.
     */
    function amountSearchSettings(config) {
        return config && config.oneWorld ? [{ name: 'consolidationtype', value: 'NONE' }] : [];
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

    /** Records created from `parentIds` that can be a step from an order to its refunds. */
    const childFilters = (parentIds) =>
        andAll([['createdfrom', 'anyof', parentIds.slice()], ['mainline', 'is', 'T'], ['type', 'anyof', CHILD_TYPE_CODES.slice()]]);

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
            // "Amount (Foreign Currency)": the transaction's own currency; a refund's total is negative.
            { key: 'total', name: 'fxamount' },
            // A base-currency figure, read only as the weight of the tax no item line carries.
            { key: 'taxTotalWeight', name: 'taxtotal' },
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
            { key: 'lineKey', name: 'lineuniquekey' },
            { key: 'itemId', name: 'item' },
            { key: 'itemName', name: 'item', text: true },
            { key: 'itemType', name: 'type', join: 'item' },
            { key: 'sku', name: config.skuField || 'itemid', join: 'item' },
            { key: 'description', name: 'memo' },
            { key: 'quantity', name: 'quantity' },
            { key: 'rate', name: 'rate' },
            { key: 'amount', name: 'fxamount' },
            // Legacy tax: the line's tax in base currency, read only as its share of the tax rows.
            { key: 'taxWeight', name: 'taxamount' },
        ];
        if (config.lineIdField) specs.push({ key: 'bigcommerceLineId', name: config.lineIdField });
        if (config.productIdField) specs.push({ key: 'bigcommerceProductId', name: config.productIdField });
        if (config.variantIdField) specs.push({ key: 'bigcommerceVariantId', name: config.variantIdField });
        return specs;
    }

    /** Tax rows and shipping rows: only their transaction-currency amount is read. */
    function amountRowColumnSpecs() {
        return [
            { key: 'refundId', name: 'internalid', sort: 'ASC' },
            { key: 'line', name: 'line', sort: 'ASC' },
            { key: 'amount', name: 'fxamount' },
        ];
    }

    /** One link up the created-from chain: each record's own created-from, its type and its order id. */
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
    // Item rows only (a header discount is one of them, on its own row): the header row, tax rows,
    // shipping rows and COGS rows are left out.
    const lineFilters = (ids) =>
        andAll([idFilter(ids), ['mainline', 'is', 'F'], ['taxline', 'is', 'F'], ['shipping', 'is', 'F'], ['cogs', 'is', 'F']]);
    const taxRowFilters = (ids) => andAll([idFilter(ids), ['mainline', 'is', 'F'], ['taxline', 'is', 'T']]);
    const shippingRowFilters = (ids) => andAll([idFilter(ids), ['mainline', 'is', 'F'], ['shipping', 'is', 'T']]);
    const customerRefundFilters = (creditMemoIds) =>
        andAll([['type', 'anyof', [TYPE.CUSTOMER_REFUND]], ['appliedtotransaction', 'anyof', creditMemoIds.slice()], ['voided', 'is', 'F']]);

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
    const canBeCreatedFrom = (childTypeCode, parentTypeCode) =>
        (PARENT_TYPES[cleanText(childTypeCode)] || []).includes(cleanText(parentTypeCode));

    function refLabel(ref) {
        return ref.tranId || `${ref.type} ${ref.id}`;
    }

    // ---------------------------------------------------------------- the created-from chain

    /**
     * The records a refund was created from, nearest first, following only the links its record
     * types allow (PARENT_TYPES) and at most MAX_CHAIN_LINKS of them; it ends at a sales order.
     * `header` carries the first link (its createdfrom join columns); `linkById` maps a record's
     * id to the hop row of its own created-from. Each element: {id, typeCode, tranId, orderValue}.
     */
    function followChain(header, linkById) {
        const chain = [];
        let child = cleanText(header.typeCode);
        let parent = {
            id: cleanText(header.createdFromId),
            typeCode: cleanText(header.createdFromTypeCode),
            tranId: cleanText(header.createdFromTranId),
            orderValue: header.createdFromOrderValue,
        };
        while (parent.id && chain.length < MAX_CHAIN_LINKS && canBeCreatedFrom(child, parent.typeCode)) {
            chain.push(parent);
            if (parent.typeCode === TYPE.SALES_ORDER) break;
            const link = linkById.get(parent.id);
            if (!link) break;
            child = parent.typeCode;
            parent = {
                id: cleanText(link.parentId),
                typeCode: cleanText(link.parentTypeCode),
                tranId: cleanText(link.parentTranId),
                orderValue: link.parentOrderValue,
            };
        }
        return chain;
    }

    /**
     * The record whose own created-from must be looked up next to go on climbing `header`'s chain,
     * or null when the chain is complete (it reached a sales order, a record that cannot be created
     * from anything, a link of a kind not followed, or MAX_CHAIN_LINKS).
     */
    function nextLinkToLookUp(header, linkById) {
        const chain = followChain(header, linkById);
        if (!chain.length || chain.length >= MAX_CHAIN_LINKS) return null;
        const last = chain[chain.length - 1];
        if (last.typeCode === TYPE.SALES_ORDER || !PARENT_TYPES[last.typeCode] || linkById.has(last.id)) return null;
        return last.id;
    }

    // ---------------------------------------------------------------- order id

    /**
     * The BigCommerce order id: the configured field on the refund, else on each record up its
     * created-from chain, nearest first (return authorization, invoice or cash sale, sales order).
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

    // ---------------------------------------------------------------- tax

    /**
     * `total` shared out in proportion to `weights` (any common unit: only their ratios count),
     * exactly: the shares add up to `total` at its own scale, each one within one minor unit of
     * its exact proportion (largest remainders get the units left over, earlier lines first on a
     * tie). Null when the weights add up to zero and there is nothing to go by.
     */
    function allocate(total, weights) {
        if (!weights.length) return null;
        const scale = Math.max(0, ...weights.map((weight) => weight.scale));
        let parts = weights.map((weight) => rescale(weight, scale).units);
        let whole = total.units;
        let sum = parts.reduce((left, right) => checkedUnits(left + right), 0);
        if (sum === 0) return null;
        const flip = sum < 0;
        if (flip) {
            parts = parts.map((part) => -part);
            whole = -whole;
            sum = -sum;
        }
        const shares = parts.map((part, index) => {
            const numerator = checkedUnits(whole * part);
            let quotient = Math.floor(numerator / sum);
            let remainder = numerator - quotient * sum;
            if (remainder < 0) {
                quotient -= 1;
                remainder += sum;
            } else if (remainder >= sum) {
                quotient += 1;
                remainder -= sum;
            }
            return { index, quotient, remainder };
        });
        let left = whole - shares.reduce((acc, share) => acc + share.quotient, 0);
        shares
            .slice()
            .sort((a, b) => b.remainder - a.remainder || a.index - b.index)
            .forEach((share) => {
                if (left > 0) {
                    share.quotient += 1;
                    left -= 1;
                }
            });
        return shares.map((share) => ({ units: checkedUnits(flip ? -share.quotient : share.quotient) || 0, scale: total.scale }));
    }

    /**
     * A SuiteTax refund's tax details, summed per item line: `itemLines` are the record's item
     * lines ({lineKey, reference}: lineuniquekey and taxdetailsreference), `details` its
     * taxdetails sublist ({reference, lineType, amount}). The tax of shipping and handling is
     * kept apart; a detail that belongs to no line and is not shipping or handling is unmatched
     * (the refund then does not add up, rather than its tax landing on a guessed line).
     * Record values carry the sign they have on the form: positive for what is given back.
     * NetSuite help: "Tax Details on Transactions in SuiteTax"; Records Browser, taxdetails.
     */
    function summariseTaxDetails(itemLines, details) {
        const lineKeyByReference = new Map();
        (itemLines || []).forEach((line) => {
            const reference = cleanText(line.reference);
            if (reference) lineKeyByReference.set(reference, String(cleanText(line.lineKey)));
        });
        const lines = new Map();
        let shipping = ZERO;
        let unmatched = ZERO;
        (details || []).forEach((detail) => {
            const amount = orZero(detail.amount);
            const reference = cleanText(detail.reference);
            const lineKey = reference ? lineKeyByReference.get(reference) : undefined;
            if (lineKey !== undefined) lines.set(lineKey, addDecimals(lines.get(lineKey) || ZERO, amount));
            else if (SHIPPING_TAX_REFERENCES.includes((reference || '').toUpperCase()) || SHIPPING_TAX_LINE_TYPES.test(cleanText(detail.lineType) || '')) {
                shipping = addDecimals(shipping, amount);
            } else unmatched = addDecimals(unmatched, amount);
        });
        return { lines, shipping, unmatched };
    }

    /*
     * Legacy tax: the tax rows (taxline) hold the refund's tax in its own currency; the item rows'
     * "taxamount" column may be in base currency (NetSuite help lists no "(Foreign Currency)"
     * variant of it), so it only says which share of the tax rows each line carries. When the
     * transaction is in base currency the shares are exactly the lines' own tax amounts. Tax no
     * item line carries is the shipping tax when there is shipping.
     */
    function legacyTax(lineRows, taxRows, header, sign, hasShipping) {
        const taxTotal = sumDecimals((taxRows || []).map((row) => inRefundSign(row.amount, sign)));
        const lineWeights = lineRows.map((row) => inRefundSign(row.taxWeight, sign));
        const headerWeight = withSign(orZero(header.taxTotalWeight), signOf(taxTotal) < 0 ? -1 : 1);
        const unassignedWeight = addDecimals(headerWeight, negateDecimal(sumDecimals(lineWeights)));
        const shippingWeight = signOf(unassignedWeight) === (signOf(taxTotal) < 0 ? -1 : 1) ? unassignedWeight : ZERO;
        const weights = hasShipping ? lineWeights.concat([shippingWeight]) : lineWeights;
        const shares = signOf(taxTotal) === 0 ? weights.map(() => ZERO) : allocate(taxTotal, weights);
        if (shares === null) {
            // Nothing to go by: all of it is the shipping tax, or nobody's (the refund will not add up).
            return { taxTotal, lineTaxes: lineRows.map(() => ZERO), shippingTax: hasShipping ? taxTotal : ZERO };
        }
        return {
            taxTotal,
            lineTaxes: shares.slice(0, lineRows.length),
            shippingTax: hasShipping ? shares[lineRows.length] : ZERO,
        };
    }

    function suiteTax(lineRows, details) {
        const summary = details || { lines: new Map(), shipping: ZERO, unmatched: ZERO };
        const lineTaxes = lineRows.map((row) => summary.lines.get(String(cleanText(row.lineKey))) || ZERO);
        const shippingTax = summary.shipping;
        const taxTotal = sumDecimals(lineTaxes.concat([shippingTax, summary.unmatched]));
        return { taxTotal, lineTaxes, shippingTax };
    }

    // ---------------------------------------------------------------- assembly

    /** A search amount in the contract's sign: NetSuite's searches report a refund's money negative. */
    function inRefundSign(raw, sign) {
        const value = orZero(raw);
        return sign < 0 ? negateDecimal(value) : value;
    }

    /**
     * One item row, signs normalised: `sign` turns NetSuite's refund sign (negative amounts) into
     * the contract's (refunded money positive, discounts negative). The rate follows the sign of
     * its line's amount; the line's tax comes from the tax rules above.
     */
    function assembleLine(row, sign, tax) {
        const amount = inRefundSign(row.amount, sign);
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
            taxAmount: money(tax || ZERO),
            bigcommerceLineId: cleanText(row.bigcommerceLineId),
            bigcommerceProductId: cleanText(row.bigcommerceProductId),
            bigcommerceVariantId: cleanText(row.bigcommerceVariantId),
        };
    }

    const isMonetaryRow = (row) => !NON_MONETARY_ITEM_TYPES.includes(cleanText(row.itemType));

    /**
     * A whole refund from its header row, its item rows (a header discount among them, on its own
     * row, as NetSuite lists it), its tax rows (legacy tax) or tax details (SuiteTax), its shipping
     * rows, the created-from chain and the customer refunds paying it out. Every figure is in the
     * transaction's currency. Returns the contract's NetSuiteRefund plus whether the total
     * invariant holds:
     *   total = sum(line.amount + line.taxAmount) + shipping + shippingTax + handling + handlingTax
     * A refund whose figures do not add up is delivered as read (never balanced by an invented line).
     */
    function assembleRefund(parts, config) {
        const header = parts.header;
        const recordType = recordTypeOf(header.typeCode);
        const rawTotal = orZero(header.total);
        // NetSuite reports a refund's amounts negative; a positive total means the opposite convention.
        const sign = signOf(rawTotal) > 0 ? 1 : -1;
        const total = absoluteDecimal(rawTotal);
        const lineRows = (parts.lines || []).filter(isMonetaryRow);
        const shipping = sumDecimals((parts.shippingRows || []).map((row) => inRefundSign(row.amount, sign)));
        const tax = config.suiteTax
            ? suiteTax(lineRows, parts.taxDetails)
            : legacyTax(lineRows, parts.taxRows, header, sign, signOf(shipping) !== 0);

        const lines = lineRows.map((row, index) => assembleLine(row, sign, tax.lineTaxes[index]));
        const isDiscount = (line) => line.itemType === DISCOUNT_ITEM_TYPE;
        const subtotal = sumDecimals(lines.filter((line) => !isDiscount(line)).map((line) => parseDecimal(line.amount)));
        const discountTotal = sumDecimals(lines.filter(isDiscount).map((line) => parseDecimal(line.amount)));
        const computedTotal = sumDecimals(
            lines.map((line) => addDecimals(parseDecimal(line.amount), parseDecimal(line.taxAmount))).concat([shipping, tax.shippingTax])
        );
        const difference = addDecimals(total, negateDecimal(computedTotal));

        const createdFrom = transactionRef(header.createdFromId, header.createdFromTypeCode, header.createdFromTranId);
        const chain = parts.chain || [];
        const chainRefs = chain.map((link) => ({ ref: transactionRef(link.id, link.typeCode, link.tranId), value: link.orderValue }));
        const last = chain[chain.length - 1];
        const salesOrder = last && last.typeCode === TYPE.SALES_ORDER ? chainRefs[chainRefs.length - 1].ref : null;
        const refundRef = { id: String(header.id), type: recordType, tranId: cleanText(header.tranId) };
        const order = resolveOrderId(config.orderIdField, [{ ref: refundRef, value: header.orderValue }].concat(chainRefs));

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
            taxTotal: money(tax.taxTotal),
            discountTotal: money(discountTotal),
            shippingAmount: money(shipping),
            shippingTax: money(tax.shippingTax),
            handlingAmount: money(ZERO),
            handlingTax: money(ZERO),
            total: money(total),
            memo: cleanText(header.memo),
            customerName: cleanText(header.customerName),
            bigcommerceOrderId: order.orderId,
            orderIdSource: order.source,
            createdFrom,
            salesOrder,
            lines,
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

    /*
     * A save refused because the transaction's accounting period is closed or locked. NetSuite
     * help ("Accounting Period": allowNonGLChanges) lets an administrator allow non-G/L changes,
     * such as these custom fields, in a closed period; otherwise the save is refused. Oracle
     * documents no error code for the refusal, so it is recognised by name or by message.
     */
    const CLOSED_PERIOD_NAME = /PERIOD/;
    const CLOSED_PERIOD_MESSAGE =
        /\b(closed|locked)\s+(accounting\s+|posting\s+)?period\b|\bperiod\b[^.]{0,40}\b(is|has been|was)\s+(closed|locked)\b|\bnot\s+within\b[^.]{0,60}\b(open\s+)?(accounting\s+|posting\s+)?period\b/i;
    const isClosedPeriodError = (thrown) =>
        Boolean(thrown) && (CLOSED_PERIOD_NAME.test(String(thrown.name)) || CLOSED_PERIOD_MESSAGE.test(String(thrown.message)));

    function closedPeriodError(request, thrown) {
        const label = RECORD_TYPE_LABELS[request.recordType];
        return new RefundSyncError(
            'PERIOD_CLOSED',
            `NetSuite refused to record the refund-sync status on ${label} ${request.id}: its accounting period is closed ` +
                `(${thrown.name}: ${thrown.message}). Allow non-G/L changes in that period (Setup > Accounting > Manage ` +
                'Accounting Periods), or read the outcome in refund-sync instead; it is not retried.',
            { id: request.id, recordType: request.recordType, netsuiteError: String(thrown.name) }
        );
    }

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

    // ---------------------------------------------------------------- saved searches of the setup page

    /**
     * The saved searches the setup Suitelet creates when they are missing (an existing one is never
     * changed). CONTRACT.md and netsuite/README.md explain each term; the README also lists them
     * for creating the searches by hand.
     */
    function savedSearchDefinitions() {
        const fields = WRITE_BACK_FIELDS;
        return [
            {
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
            },
            {
                id: NOT_SYNCED_SAVED_SEARCH_ID,
                title: 'refund-sync: refunds not synced (failed or held)',
                type: 'transaction',
                filters: andAll([
                    refundTypeFilter(),
                    ['mainline', 'is', 'T'],
                    orAll(NOT_SYNCED_STATUSES.map((status) => [fields.status, 'is', status])),
                ]),
                columns: [
                    { name: fields.syncedAt, sort: 'DESC' },
                    { name: 'type' },
                    { name: 'tranid' },
                    { name: 'trandate' },
                    { name: 'entity' },
                    { name: 'fxamount' },
                    { name: fields.status },
                    { name: fields.reasonCode },
                    { name: fields.message },
                    { name: fields.whatToDo },
                ],
            },
        ];
    }

    return {
        CONTRACT_VERSION,
        MIN_PAGE_SIZE,
        MAX_PAGE_SIZE,
        MAX_CHAIN_LINKS,
        DEFAULT_SAVED_SEARCH_ID,
        NOT_SYNCED_SAVED_SEARCH_ID,
        EXCLUDE_FIELD,
        WRITE_BACK_FIELDS,
        NOT_SYNCED_STATUSES,
        PARAMETERS,
        FEATURES,
        TYPE,
        REFUND_TYPE_CODES,
        BILLED_TYPE_CODES,
        SALES_ORDER_TYPE_CODE,
        PARENT_TYPES,
        REFUND_SEARCH_TYPES,
        RECORD_TYPE_LABELS,
        TYPE_CODE_BY_RECORD_TYPE,
        COST,
        USAGE_RESERVE,
        GATHER_BATCH_SIZE,
        SUITETAX_BATCH_SIZE,
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
        readFeatures,
        describeConfig,
        amountSearchSettings,
        refundTypeFilter,
        idFilter,
        combineFilters,
        andAll,
        pageFilterTerms,
        orderIdFilter,
        tranIdFilter,
        childFilters,
        selectionColumnSpecs,
        headerColumnSpecs,
        lineColumnSpecs,
        amountRowColumnSpecs,
        hopColumnSpecs,
        customerRefundColumnSpecs,
        headerFilters,
        lineFilters,
        taxRowFilters,
        shippingRowFilters,
        customerRefundFilters,
        recordTypeOf,
        transactionRef,
        isRefundTypeCode,
        canBeCreatedFrom,
        refLabel,
        followChain,
        nextLinkToLookUp,
        resolveOrderId,
        paidOutRule,
        allocate,
        summariseTaxDetails,
        assembleLine,
        assembleRefund,
        notFoundReason,
        createBudget,
        usageLimitError,
        isRecordMissingError,
        isClosedPeriodError,
        closedPeriodError,
        pageResponse,
        findResponse,
        writeBackResponse,
        errorResponse,
        describeError,
        savedSearchDefinitions,
    };
});
