/**
 * refund-sync: the refund export RESTlet, contract version 1 (netsuite/CONTRACT.md; the normative
 * shapes are in netsuite/contract/restlet-contract.v1.json).
 *
 *   POST {"action": "page", ...}      one keyset page of the saved search's refunds, each one whole
 *   POST {"action": "find", ...}      refunds by internal id, document number or BigCommerce order id
 *   PUT  {"action": "writeBack", ...} the BigCommerce outcome, written to the refund's body fields
 *
 * A RESTlet cannot choose the HTTP status of a body it returns: every error this script catches
 * comes back with HTTP 200 as the contract's ErrorResponse {"version": "1", "error": {...}}, and the
 * client looks for "error" in every body. The rules live in rs_refund_export_lib.js; this module
 * runs the searches, watches governance and feeds rows to the library. It logs with the global
 * `log` of server scripts.
 *
 * @NApiVersion 2.1
 * @NScriptType Restlet
 * @NModuleScope SameAccount
 */
define(['N/search', 'N/record', 'N/runtime', 'N/format', './rs_refund_export_lib'], (search, record, runtime, format, lib) => {
    'use strict';

    const TRANSACTION = 'transaction';
    // Search filters and result columns are in the role user's time zone, which the setup requires to
    // be GMT. N/format is told so: without a zone, server scripts format and parse date-times in
    // Pacific time (help, "format.format(options)", "format.parse(options)").
    const USER_ZONE = format.Timezone.GMT;
    const remainingUsage = () => runtime.getCurrentScript().getRemainingUsage();

    function readConfig() {
        const script = runtime.getCurrentScript();
        const config = lib.readConfig((name) => script.getParameter({ name }));
        return Object.assign(config, lib.readFeatures((feature) => runtime.isFeatureInEffect({ feature })));
    }

    // ------------------------------------------------------------ searches

    function columnOptions(spec) {
        const options = { name: spec.name };
        if (spec.join) options.join = spec.join;
        if (spec.summary) options.summary = search.Summary[spec.summary];
        return options;
    }

    function toColumn(spec) {
        const options = columnOptions(spec);
        if (spec.sort) options.sort = search.Sort[spec.sort];
        return search.createColumn(options);
    }

    function readRow(result, specs) {
        const row = {};
        specs.forEach((spec) => {
            const options = columnOptions(spec);
            row[spec.key] = spec.text ? result.getText(options) : result.getValue(options);
        });
        return row;
    }

    /**
     * Every row of an ad-hoc search as plain objects, or null when the governance budget cannot
     * pay for the next step (the caller then stops with what it has completed).
     */
    function runAll(query, budget) {
        if (!budget.canAfford(lib.COST.RUN_PAGED + lib.COST.FETCH)) return null;
        const columns = query.specs.map(toColumn);
        const definition = { type: query.type || TRANSACTION, filters: query.filters, columns };
        if (query.settings && query.settings.length) definition.settings = query.settings.map((setting) => search.createSetting(setting));
        const paged = search.create(definition).runPaged({ pageSize: lib.SEARCH_PAGE_SIZE });
        const rows = [];
        for (let index = 0; index < paged.pageRanges.length; index += 1) {
            // The first fetch was paid for with runPaged above.
            if (index > 0 && !budget.canAfford(lib.COST.FETCH)) return null;
            paged.fetch({ index: paged.pageRanges[index].index }).data.forEach((result) => rows.push(readRow(result, query.specs)));
        }
        return rows;
    }

    function runAllOrFail(query, budget, step) {
        const rows = runAll(query, budget);
        if (rows === null) throw lib.usageLimitError(step, remainingUsage());
        return rows;
    }

    function loadSavedSearch(searchId, budget) {
        if (!budget.canAfford(lib.COST.LOAD)) throw lib.usageLimitError('load the saved search', remainingUsage());
        let saved;
        try {
            saved = search.load({ id: searchId });
        } catch (thrown) {
            throw new lib.RefundSyncError(
                'SEARCH_NOT_FOUND',
                `Saved search ${searchId} could not be loaded (${thrown.name}: ${thrown.message}). Check the id (customsearch_... or ` +
                    'its internal id), that the search exists, and that it is public or shared with the integration role.',
                { searchId, netsuiteError: String(thrown.name) }
            );
        }
        const searchType = String(saved.searchType || '');
        if (!lib.REFUND_SEARCH_TYPES.includes(searchType.toLowerCase())) {
            throw new lib.RefundSyncError(
                'SEARCH_NOT_REFUNDS',
                `Saved search ${searchId} is a "${searchType}" search. The refund export needs a Transaction search ` +
                    '(or a Cash Refund / Credit Memo search) whose criteria select cash refunds and credit memos.',
                { searchId, searchType }
            );
        }
        return { id: searchId, type: searchType, filterExpression: saved.filterExpression || [] };
    }

    /** The refunds the saved search selects among `ids`: one grouped search per thousand ids. */
    function idsInSavedSearch(saved, ids, budget) {
        const inSearch = new Set();
        lib.chunk(ids, lib.SEARCH_PAGE_SIZE).forEach((batch) => {
            const rows = runAllOrFail(
                {
                    type: saved.type,
                    filters: lib.combineFilters(saved.filterExpression, [lib.refundTypeFilter(), lib.idFilter(batch)]),
                    specs: lib.selectionColumnSpecs(),
                },
                budget,
                'check the refunds against the saved search'
            );
            rows.forEach((row) => inSearch.add(String(row.id)));
        });
        return inSearch;
    }

    // ------------------------------------------------------------ gathering whole refunds

    function withIsoDates(header) {
        return Object.assign({}, header, {
            tranDate: lib.isoDate(format.parse({ value: header.tranDate, type: format.Type.DATE }), 'trandate', header),
            lastModified: lib.isoInstant(format.parse({ value: header.lastModified, type: format.Type.DATETIME, timezone: USER_ZONE }), 'lastmodifieddate', header),
        });
    }

    function groupBy(rows, keyOf) {
        const groups = new Map();
        rows.forEach((row) => {
            const key = String(keyOf(row));
            if (!groups.has(key)) groups.set(key, []);
            groups.get(key).push(row);
        });
        return groups;
    }

    /**
     * The created-from chains of `headers`, link by link: one search per level for the whole
     * batch (a refund's first link comes with its header row), never one per refund.
     */
    function climbChains(headers, config, budget) {
        const linkById = new Map();
        for (let round = 1; round < lib.MAX_CHAIN_LINKS; round += 1) {
            const ids = lib.uniqueInOrder(headers.map((header) => lib.nextLinkToLookUp(header, linkById)).filter(Boolean));
            if (!ids.length) break;
            const links = runAll({ filters: lib.headerFilters(ids), specs: lib.hopColumnSpecs(config) }, budget);
            if (links === null) return null;
            const found = new Set(links.map((link) => String(link.id)));
            links.forEach((link) => linkById.set(String(link.id), link));
            // A record the search did not return has no created-from of its own: the chain ends there.
            ids.filter((id) => !found.has(id)).forEach((id) => linkById.set(id, { id, parentId: '' }));
        }
        return linkById;
    }

    /**
     * SuiteTax keeps a refund's tax in the tax details of its record, in the transaction's
     * currency (NetSuite help, "Tax Details on Transactions in SuiteTax"): one record.load per
     * refund, so only in SuiteTax accounts. Null when governance cannot pay for all of them.
     */
    function loadTaxDetails(headers, budget) {
        const byRefund = new Map();
        for (const header of headers) {
            if (!budget.canAfford(lib.COST.LOAD_RECORD)) return null;
            const loaded = record.load({ type: lib.recordTypeOf(header.typeCode), id: header.id });
            const sublistRows = (sublistId, fields) =>
                Array.from({ length: loaded.getLineCount({ sublistId }) }, (unused, line) => {
                    const row = {};
                    Object.entries(fields).forEach(([key, fieldId]) => {
                        row[key] = loaded.getSublistValue({ sublistId, fieldId, line });
                    });
                    return row;
                });
            byRefund.set(
                String(header.id),
                lib.summariseTaxDetails(
                    sublistRows('item', { lineKey: 'lineuniquekey', reference: 'taxdetailsreference' }),
                    sublistRows('taxdetails', { reference: 'taxdetailsreference', lineType: 'linetype', amount: 'taxamount' })
                )
            );
        }
        return byRefund;
    }

    /**
     * One batch of refunds, whole: header rows, item rows, tax rows (legacy tax) or tax details
     * (SuiteTax), shipping rows, the created-from chains and the customer refunds paying credit
     * memos out, in a few searches for the whole batch. Amounts are read in the transaction's
     * currency, with consolidation off in OneWorld. Null when governance cannot pay for all of it
     * (the batch is then left out).
     */
    function gatherBatch(ids, config, budget) {
        const settings = lib.amountSearchSettings(config);
        const headers = runAll({ filters: lib.headerFilters(ids), specs: lib.headerColumnSpecs(config), settings }, budget);
        if (headers === null) return null;
        const lineRows = runAll({ filters: lib.lineFilters(ids), specs: lib.lineColumnSpecs(config), settings }, budget);
        if (lineRows === null) return null;
        const shippingRows = runAll({ filters: lib.shippingRowFilters(ids), specs: lib.amountRowColumnSpecs(), settings }, budget);
        if (shippingRows === null) return null;
        let taxRows = [];
        let taxDetails = new Map();
        if (config.suiteTax) {
            taxDetails = loadTaxDetails(headers, budget);
            if (taxDetails === null) return null;
        } else {
            taxRows = runAll({ filters: lib.taxRowFilters(ids), specs: lib.amountRowColumnSpecs(), settings }, budget);
            if (taxRows === null) return null;
        }
        const linkById = climbChains(headers, config, budget);
        if (linkById === null) return null;
        const creditMemoIds = headers.filter((header) => lib.cleanText(header.typeCode) === lib.TYPE.CREDIT_MEMO).map((header) => String(header.id));
        let customerRefunds = [];
        if (creditMemoIds.length) {
            customerRefunds = runAll({ filters: lib.customerRefundFilters(creditMemoIds), specs: lib.customerRefundColumnSpecs() }, budget);
            if (customerRefunds === null) return null;
        }

        const headerById = new Map(headers.map((header) => [String(header.id), header]));
        const linesByRefund = groupBy(lineRows, (row) => row.refundId);
        const shippingByRefund = groupBy(shippingRows, (row) => row.refundId);
        const taxByRefund = groupBy(taxRows, (row) => row.refundId);
        const payoutsByCreditMemo = groupBy(customerRefunds, (row) => lib.cleanText(row.appliedToId));

        const refunds = [];
        ids.forEach((id) => {
            const header = headerById.get(id);
            if (!header) {
                log.audit({ title: 'refund-sync: refund vanished', details: `Internal id ${id} was selected but no longer exists; skipped.` });
                return;
            }
            const assembled = lib.assembleRefund(
                {
                    header: withIsoDates(header),
                    lines: linesByRefund.get(id) || [],
                    shippingRows: shippingByRefund.get(id) || [],
                    taxRows: taxByRefund.get(id) || [],
                    taxDetails: taxDetails.get(id) || null,
                    chain: lib.followChain(header, linkById),
                    customerRefunds: payoutsByCreditMemo.get(id) || [],
                },
                config
            );
            if (!assembled.consistent) {
                log.audit({
                    title: 'refund-sync: amounts do not add up',
                    details: `${assembled.refund.tranId} (id ${id}): total differs from lines + shipping + tax by ${assembled.difference}; ` +
                        'delivered as read, the engine will refuse it.',
                });
            }
            refunds.push(assembled.refund);
        });
        return refunds;
    }

    /** Whole refunds for `ids` (ascending), batch by batch, until the ids or the budget run out. */
    function gatherRefunds(ids, config, budget) {
        const refunds = [];
        let processedCount = 0;
        for (const batch of lib.chunk(ids, config.suiteTax ? lib.SUITETAX_BATCH_SIZE : lib.GATHER_BATCH_SIZE)) {
            const gathered = gatherBatch(batch, config, budget);
            if (gathered === null) break;
            gathered.forEach((refund) => refunds.push(refund));
            processedCount += batch.length;
        }
        return { refunds, processedCount };
    }

    // ------------------------------------------------------------ page

    function handlePage(body, config) {
        const request = lib.validatePageRequest(body, config);
        const budget = lib.createBudget(remainingUsage);
        if (!budget.canAfford(lib.COST.LOAD + lib.COST.RUN_PAGED + lib.COST.FETCH)) {
            throw lib.usageLimitError('select the page', remainingUsage());
        }
        const saved = loadSavedSearch(request.searchId, budget);
        const modifiedSinceText = request.modifiedSince ? format.format({ value: request.modifiedSince, type: format.Type.DATETIME, timezone: USER_ZONE }) : null;

        // The saved search only chooses ids: grouped by internal id (one row per refund even for a
        // line-level search) and sorted ascending, so "internal id > afterId" pages never shift.
        const selectionSpecs = lib.selectionColumnSpecs();
        const selection = search.create({
            type: saved.type,
            filters: lib.combineFilters(saved.filterExpression, lib.pageFilterTerms(request.afterId, modifiedSinceText)),
            columns: selectionSpecs.map(toColumn),
        });
        const paged = selection.runPaged({ pageSize: request.pageSize });
        const selectedIds = paged.count > 0 ? paged.fetch({ index: 0 }).data.map((result) => String(readRow(result, selectionSpecs).id)) : [];

        const gathered = gatherRefunds(selectedIds, config, budget);
        const truncated = gathered.processedCount < selectedIds.length;
        const paging = {
            afterId: request.afterId,
            lastId: gathered.processedCount ? selectedIds[gathered.processedCount - 1] : null,
            pageSize: request.pageSize,
            count: gathered.refunds.length,
            hasMore: truncated || paged.count > selectedIds.length,
            truncatedByGovernance: truncated,
        };
        log.audit({ title: 'refund-sync: page', details: JSON.stringify(Object.assign({ searchId: saved.id, remainingUsage: remainingUsage() }, paging)) });
        return lib.pageResponse(gathered.refunds, paging, remainingUsage());
    }

    // ------------------------------------------------------------ find

    const IDENTITY_SPECS = [
        { key: 'id', name: 'internalid' },
        { key: 'typeCode', name: 'type' },
        { key: 'typeText', name: 'type', text: true },
        { key: 'tranId', name: 'tranid' },
    ];

    const describeTransaction = (row) => `${lib.cleanText(row.typeText) || lib.cleanText(row.typeCode) || 'transaction'} ${lib.cleanText(row.tranId) || `id ${row.id}`}`;
    const sameText = (left, right) => (lib.cleanText(left) || '').toLowerCase() === (lib.cleanText(right) || '').toLowerCase();

    function newQuery(kind, value) {
        return { kind, value, refundIds: [], reasons: [] };
    }

    function findByIds(ids, budget, candidates) {
        const rows = runAllOrFail({ filters: lib.headerFilters(ids), specs: IDENTITY_SPECS }, budget, 'look up the internal ids');
        const byId = new Map(rows.map((row) => [String(row.id), row]));
        return ids.map((id) => {
            const query = newQuery('id', id);
            const row = byId.get(id);
            if (!row) query.reasons.push(lib.notFoundReason('NO_SUCH_TRANSACTION', 'id', id));
            else if (!lib.isRefundTypeCode(row.typeCode)) query.reasons.push(lib.notFoundReason('NOT_A_REFUND', 'id', id, [describeTransaction(row)]));
            else {
                query.refundIds.push(id);
                candidates.set(id, row);
            }
            return query;
        });
    }

    function findByTranIds(tranIds, budget, candidates) {
        const rows = runAllOrFail(
            { filters: lib.andAll([lib.tranIdFilter(tranIds), ['mainline', 'is', 'T']]), specs: IDENTITY_SPECS },
            budget,
            'look up the document numbers'
        );
        return tranIds.map((tranId) => {
            const query = newQuery('tranId', tranId);
            const matches = rows.filter((row) => sameText(row.tranId, tranId));
            const refunds = matches.filter((row) => lib.isRefundTypeCode(row.typeCode));
            if (!matches.length) query.reasons.push(lib.notFoundReason('NO_SUCH_TRANSACTION', 'tranId', tranId));
            else if (!refunds.length) query.reasons.push(lib.notFoundReason('NOT_A_REFUND', 'tranId', tranId, matches.map(describeTransaction)));
            refunds.forEach((row) => {
                query.refundIds.push(String(row.id));
                candidates.set(String(row.id), row);
            });
            return query;
        });
    }

    /**
     * The records created from `roots`, level by level down the same links the created-from chain
     * climbs (sales order -> invoice / cash sale / return authorization -> return authorization ->
     * refund), at most MAX_CHAIN_LINKS levels: one search per level. Each record found keeps the
     * root it descends from.
     */
    function descendantsOf(roots, budget) {
        const found = [];
        const seen = new Set(roots.map((row) => String(row.id)));
        let frontier = roots.filter((row) => !lib.isRefundTypeCode(row.typeCode));
        for (let level = 0; level < lib.MAX_CHAIN_LINKS && frontier.length; level += 1) {
            const parentById = new Map(frontier.map((row) => [String(row.id), row]));
            const children = runAllOrFail(
                { filters: lib.childFilters(Array.from(parentById.keys())), specs: IDENTITY_SPECS.concat([{ key: 'parentId', name: 'createdfrom' }]) },
                budget,
                'look up the records created from the orders'
            );
            frontier = [];
            children.forEach((child) => {
                const parent = parentById.get(String(lib.cleanText(child.parentId)));
                if (!parent || seen.has(String(child.id)) || !lib.canBeCreatedFrom(child.typeCode, parent.typeCode)) return;
                seen.add(String(child.id));
                const descendant = Object.assign({}, child, { rootId: parent.rootId || String(parent.id) });
                found.push(descendant);
                if (!lib.isRefundTypeCode(child.typeCode)) frontier.push(descendant);
            });
        }
        return found;
    }

    /**
     * Refunds of BigCommerce orders: transactions carrying the order id (sales orders, and any
     * billed record, return authorization or refund that carries it too), then everything created
     * from those down the created-from links to the refunds.
     */
    function findByOrderIds(orderIds, config, budget, candidates) {
        const field = config.orderIdField;
        if (!field) {
            throw new lib.RefundSyncError(
                'CONFIGURATION_ERROR',
                `No BigCommerce order id field is configured, so orders cannot be looked up. Set the deployment parameter ${lib.PARAMETERS.orderIdField}.`,
                { parameter: lib.PARAMETERS.orderIdField }
            );
        }
        const carriers = runAllOrFail(
            {
                filters: lib.andAll([lib.orderIdFilter(field, orderIds), ['mainline', 'is', 'T']]),
                specs: IDENTITY_SPECS.concat([{ key: 'orderValue', name: field }]),
            },
            budget,
            'look up the BigCommerce order ids'
        );
        const descendants = descendantsOf(carriers, budget);
        const isType = (codes) => (row) => codes.includes(lib.cleanText(row.typeCode));

        return orderIds.map((orderId) => {
            const query = newQuery('orderId', orderId);
            const orderCarriers = carriers.filter((row) => sameText(row.orderValue, orderId));
            const carrierIds = new Set(orderCarriers.map((row) => String(row.id)));
            const related = orderCarriers.concat(descendants.filter((row) => carrierIds.has(row.rootId)));
            const orders = related.filter(isType([lib.SALES_ORDER_TYPE_CODE]));
            const billed = related.filter(isType(lib.BILLED_TYPE_CODES));
            const refunds = related.filter((row) => lib.isRefundTypeCode(row.typeCode));
            refunds.forEach((row) => {
                if (!query.refundIds.includes(String(row.id))) query.refundIds.push(String(row.id));
                candidates.set(String(row.id), row);
            });
            if (!refunds.length) {
                if (!orders.length && !billed.length) query.reasons.push(lib.notFoundReason('ORDER_NOT_SYNCED', 'orderId', orderId, field));
                else {
                    const named = (orders.length ? orders : billed).map(describeTransaction);
                    query.reasons.push(lib.notFoundReason('NO_REFUND_FOR_ORDER', 'orderId', orderId, named, billed.map(describeTransaction)));
                }
            }
            return query;
        });
    }

    function handleFind(body, config) {
        const request = lib.validateFindRequest(body, config);
        const budget = lib.createBudget(remainingUsage);
        const saved = loadSavedSearch(request.searchId, budget);
        const candidates = new Map();
        let queries = [];
        if (request.ids.length) queries = queries.concat(findByIds(request.ids, budget, candidates));
        if (request.tranIds.length) queries = queries.concat(findByTranIds(request.tranIds, budget, candidates));
        if (request.orderIds.length) queries = queries.concat(findByOrderIds(request.orderIds, config, budget, candidates));

        const candidateIds = Array.from(candidates.keys()).sort(lib.byNumericId);
        const inSearch = candidateIds.length ? idsInSavedSearch(saved, candidateIds, budget) : new Set();
        const wanted = candidateIds.filter((id) => inSearch.has(id));
        const gathered = gatherRefunds(wanted, config, budget);
        if (gathered.processedCount < wanted.length) throw lib.usageLimitError('gather the refunds found', remainingUsage());

        const notFound = queries
            .filter((query) => !query.refundIds.some((id) => inSearch.has(id)))
            .map((query) => ({
                kind: query.kind,
                value: query.value,
                reasons: query.refundIds.length
                    ? [lib.notFoundReason('OUTSIDE_SAVED_SEARCH', query.kind, query.value, query.refundIds.map((id) => describeTransaction(candidates.get(id))), saved.id)]
                    : query.reasons,
            }));
        log.audit({ title: 'refund-sync: find', details: JSON.stringify({ found: gathered.refunds.length, notFound: notFound.length, remainingUsage: remainingUsage() }) });
        return lib.findResponse(gathered.refunds, notFound);
    }

    // ------------------------------------------------------------ write-back

    function lookupWriteBackFields(request) {
        const fields = lib.WRITE_BACK_FIELDS;
        const notFound = (netsuiteError) =>
            new lib.RefundSyncError(
                'RECORD_NOT_FOUND',
                `No ${lib.RECORD_TYPE_LABELS[request.recordType]} has internal id ${request.id}. Check the id and the record type ` +
                    '(cashrefund or creditmemo); the record may have been deleted.',
                { id: request.id, recordType: request.recordType, netsuiteError }
            );
        let current;
        try {
            current = search.lookupFields({
                type: request.recordType,
                id: request.id,
                columns: ['internalid', fields.bigcommerceRefundId, fields.status, fields.reasonCode],
            });
        } catch (thrown) {
            if (lib.isRecordMissingError(thrown)) throw notFound(String(thrown.name));
            throw thrown;
        }
        if (!current || !lib.cleanText(current.internalid)) throw notFound(null);
        return current;
    }

    /**
     * Writes the refund-sync outcome on the refund with record.submitFields (no sourcing, no
     * mandatory-field checks): SYNCED with the BigCommerce refund id, or FAILED / HELD with the
     * reason code and what to do. A write that would not change the outcome NetSuite already
     * holds (refund id, status, reason code) is a no-op ("updated": false): retries do not bump the
     * refund's last-modified date, and neither does a new wording of the same outcome, so a
     * write-back never starts a loop of re-deliveries. The date-time field gets a Date, which
     * NetSuite stores as that instant whatever the user's time zone preference ("Record.setValue":
     * date and datetime fields accept Date values); a formatted string would be read in the
     * preference's zone and format.
     */
    function handleWriteBack(body) {
        const request = lib.validateWriteBackRequest(body);
        const budget = lib.createBudget(remainingUsage);
        if (!budget.canAfford(lib.COST.LOOKUP_FIELDS + lib.COST.SUBMIT_FIELDS)) throw lib.usageLimitError('write back', remainingUsage());
        const fields = lib.WRITE_BACK_FIELDS;
        const current = lookupWriteBackFields(request);
        const values = {};
        values[fields.bigcommerceRefundId] = request.bigcommerceRefundId || '';
        values[fields.status] = request.status;
        values[fields.reasonCode] = request.reasonCode || '';
        const outcomeFields = Object.keys(values);
        const unchanged = outcomeFields.every((field) => (lib.cleanText(current[field]) || '') === (lib.cleanText(values[field]) || ''));
        if (unchanged) {
            log.audit({ title: 'refund-sync: write-back unchanged', details: `${request.recordType} ${request.id} already holds status ${request.status}.` });
            return lib.writeBackResponse(request.id, false);
        }
        values[fields.message] = request.message || '';
        values[fields.whatToDo] = request.whatToDo || '';
        values[fields.syncedAt] = request.syncedAt;
        try {
            record.submitFields({
                type: request.recordType,
                id: request.id,
                values,
                options: { enableSourcing: false, ignoreMandatoryFields: true },
            });
        } catch (thrown) {
            if (lib.isRecordMissingError(thrown)) {
                throw new lib.RefundSyncError('RECORD_NOT_FOUND', `${lib.RECORD_TYPE_LABELS[request.recordType]} ${request.id} no longer exists.`, {
                    id: request.id,
                    recordType: request.recordType,
                    netsuiteError: String(thrown.name),
                });
            }
            if (lib.isClosedPeriodError(thrown)) throw lib.closedPeriodError(request, thrown);
            throw thrown;
        }
        log.audit({ title: 'refund-sync: write-back', details: `${request.recordType} ${request.id}: ${request.status}${request.reasonCode ? ` ${request.reasonCode}` : ''}` });
        return lib.writeBackResponse(request.id, true);
    }

    // ------------------------------------------------------------ entry points

    function respond(method, rawBody) {
        // A text body (Content-Type other than JSON) must be answered with text.
        const wasText = typeof rawBody === 'string';
        const answer = (response) => (wasText ? JSON.stringify(response) : response);
        let config = null;
        try {
            const body = lib.parseBody(rawBody).body;
            const action = lib.checkEnvelope(body, method);
            if (action === 'writeBack') return answer(handleWriteBack(body));
            config = readConfig();
            return answer(action === 'find' ? handleFind(body, config) : handlePage(body, config));
        } catch (thrown) {
            const response = lib.describeError(thrown, config);
            log.error({ title: `refund-sync: ${method} answered ${response.error.code}`, details: JSON.stringify(response.error) });
            return answer(response);
        }
    }

    return {
        post: (requestBody) => respond('POST', requestBody),
        put: (requestBody) => respond('PUT', requestBody),
    };
});
