/**
 * An in-memory NetSuite account wired behind Oracle's N/ module stubs.
 *
 * Test files call jest.mock('N/search') (and the other modules they drive); `installFakeNetSuite`
 * then gives the automocked functions an implementation backed by this account: transactions
 * exploded into search rows (header, item, tax, shipping, COGS and apply rows) the way NetSuite's
 * transaction search shows them, a filter-expression evaluator, grouping, sorting, runPaged
 * paging, lookupFields / submitFields, deployment parameters and a governance meter that throws
 * SSS_USAGE_LIMIT_EXCEEDED like NetSuite when a script overspends. Unknown field ids raise
 * NetSuite's invalid-column / invalid-filter errors. The user's preferences are fixed: dates
 * M/D/YYYY, times h:mm am/pm, time zone UTC.
 */
import search from 'N/search';
import record from 'N/record';
import runtime from 'N/runtime';
import format from 'N/format';
import error from 'N/error';

export const DEFAULT_PARAMETERS = Object.freeze({
    custscript_rs_saved_search: 'customsearch_rs_refunds',
    custscript_rs_order_id_field: 'custbody_fa_channel_order',
    custscript_rs_sku_field: '',
    custscript_rs_line_id_field: 'custcol_rs_bc_line_id',
    custscript_rs_product_id_field: '',
    custscript_rs_variant_id_field: '',
    custscript_rs_loop_guard_field: '',
    custscript_rs_default_page_size: 500,
});

const RECORD_TYPES = {
    CashRfnd: 'cashrefund',
    CustCred: 'creditmemo',
    CustInvc: 'invoice',
    CashSale: 'cashsale',
    RtnAuth: 'returnauthorization',
    SalesOrd: 'salesorder',
    CustRfnd: 'customerrefund',
};
const TYPE_LABELS = {
    CashRfnd: 'Cash Refund',
    CustCred: 'Credit Memo',
    CustInvc: 'Invoice',
    CashSale: 'Cash Sale',
    RtnAuth: 'Return Authorization',
    SalesOrd: 'Sales Order',
    CustRfnd: 'Customer Refund',
};
const USAGE = { load: 5, runPaged: 5, fetch: 5, lookupFields: 1, submitFields: 10, save: 5 };

// Fields every transaction row answers; custom fields are declared per account.
const STANDARD_TRANSACTION_FIELDS = new Set([
    'internalid', 'internalidnumber', 'type', 'tranid', 'trandate', 'lastmodifieddate', 'memomain', 'memo', 'entity',
    'currency', 'fxamount', 'taxtotal', 'shippingamount', 'discountamount', 'createdfrom', 'externalid', 'source',
    'paymentmethod', 'pnrefnum', 'otherrefnum', 'mainline', 'taxline', 'shipping', 'cogs', 'voided', 'line', 'item',
    'quantity', 'rate', 'taxamount', 'appliedtotransaction',
]);
const STANDARD_ITEM_FIELDS = new Set(['internalid', 'itemid', 'type', 'displayname']);

export function netsuiteError(name, message) {
    const thrown = new Error(message);
    thrown.name = name;
    thrown.type = 'error.SuiteScriptError';
    return thrown;
}

// ------------------------------------------------------------------ user preferences (UTC)

const pad2 = (number) => String(number).padStart(2, '0');

export function userDate(isoDate) {
    const [year, month, day] = isoDate.split('-').map(Number);
    return `${month}/${day}/${year}`;
}

export function userDateTime(instant) {
    const date = new Date(instant);
    const hours = date.getUTCHours();
    const hour12 = hours % 12 === 0 ? 12 : hours % 12;
    return `${date.getUTCMonth() + 1}/${date.getUTCDate()}/${date.getUTCFullYear()} ${hour12}:${pad2(date.getUTCMinutes())} ${hours < 12 ? 'am' : 'pm'}`;
}

function parseUserDate(text) {
    const match = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/.exec(String(text).trim());
    return match ? new Date(Number(match[3]), Number(match[1]) - 1, Number(match[2])) : null;
}

function parseUserDateTime(text) {
    const match = /^(\d{1,2})\/(\d{1,2})\/(\d{4}) (\d{1,2}):(\d{2}) (am|pm)$/.exec(String(text).trim());
    if (!match) return null;
    const hour = (Number(match[4]) % 12) + (match[6] === 'pm' ? 12 : 0);
    return new Date(Date.UTC(Number(match[3]), Number(match[1]) - 1, Number(match[2]), hour, Number(match[5])));
}

const probeTransaction = () => ({
    id: 0, typeCode: 'CustCred', tranId: '', tranDate: '2024-01-01', lastModified: '2024-01-01T00:00:00Z',
    entity: { id: 0, name: '' }, currency: 'USD', fields: {}, lines: [], appliedTo: [],
});

// Filter terms are evaluated once per row: remember each term's value set.
const anyOfSets = new WeakMap();

const floorToMinute = (instant) => Math.floor(new Date(instant).getTime() / 60000) * 60000;

// ------------------------------------------------------------------ the account

export class FakeAccount {
    constructor({ usage = 5000, parameters = {} } = {}) {
        this.remaining = usage;
        this.parameters = { ...DEFAULT_PARAMETERS, ...parameters };
        this.transactions = new Map();
        this.items = new Map();
        this.savedSearches = new Map();
        this.bodyFields = new Map([
            ['custbody_fa_channel_order', 'text'],
            ['custbody_rs_exclude', 'checkbox'],
            ['custbody_rs_bc_refund_id', 'text'],
            ['custbody_rs_sync_status', 'text'],
            ['custbody_rs_sync_message', 'text'],
            ['custbody_rs_synced_at', 'datetime'],
        ]);
        this.columnFields = new Set(['custcol_rs_bc_line_id']);
        this.itemFields = new Set();
        this.now = '2024-05-01T12:00:00Z';
        this.createdSearches = [];
        this.submitted = [];
        this.nextSavedSearchId = 900;
    }

    setUsage(units) {
        this.remaining = units;
    }

    spend(units, what) {
        if (this.remaining < units) {
            throw netsuiteError('SSS_USAGE_LIMIT_EXCEEDED', `Script Execution Usage Limit Exceeded (${what})`);
        }
        this.remaining -= units;
    }

    addBodyField(id, kind = 'text') {
        this.bodyFields.set(id, kind);
    }

    addColumnField(id) {
        this.columnFields.add(id);
    }

    addItemField(id) {
        this.itemFields.add(id);
    }

    addItem(item) {
        this.items.set(String(item.id), { fields: {}, ...item });
        return item;
    }

    addTransaction(transaction) {
        const stored = {
            entity: { id: 7, name: 'Jane Doe' },
            currency: 'USD',
            memo: '',
            total: '0.00',
            taxTotal: '0.00',
            shipping: '0.00',
            discount: '',
            createdFrom: null,
            fields: {},
            externalId: '',
            source: '',
            paymentMethod: '',
            pnRefNum: '',
            otherRefNum: '',
            voided: false,
            lines: [],
            appliedTo: [],
            tranDate: '2024-04-15',
            lastModified: '2024-04-15T10:00:00Z',
            ...transaction,
        };
        this.transactions.set(String(stored.id), stored);
        return stored;
    }

    transaction(id) {
        return this.transactions.get(String(id));
    }

    addSavedSearch(id, { searchType = 'transaction', filterExpression = [], title = id } = {}) {
        this.savedSearches.set(id, { searchType, filterExpression, title });
    }

    /** Searches the script created, in order: type, filter expression, columns. */
    searchesWithColumn(name, join) {
        return this.createdSearches.filter((created) => created.columns.some((column) => column.name === name && (column.join || null) === (join || null)));
    }

    // -------------------------------------------------------------- rows

    rowsOf(transaction) {
        const rows = [{ transaction, kind: 'main', line: 0 }];
        transaction.lines.forEach((line) => {
            rows.push({ transaction, kind: 'item', line: line.line, data: line });
            const item = this.items.get(String(line.itemId));
            if (item && item.type === 'InvtPart') rows.push({ transaction, kind: 'cogs', line: line.line });
        });
        if (Number(transaction.taxTotal)) rows.push({ transaction, kind: 'tax', line: 900 });
        if (Number(transaction.shipping)) rows.push({ transaction, kind: 'shipping', line: 901 });
        transaction.appliedTo.forEach((appliedId, index) => rows.push({ transaction, kind: 'apply', line: 1 + index, appliedTo: appliedId }));
        return rows;
    }

    allRows(searchType) {
        const rows = [];
        for (const transaction of this.transactions.values()) {
            if (searchType !== 'transaction' && RECORD_TYPES[transaction.typeCode] !== searchType) continue;
            this.rowsOf(transaction).forEach((row) => rows.push(row));
        }
        return rows;
    }

    createdFromOf(transaction) {
        return transaction.createdFrom ? this.transaction(transaction.createdFrom) : null;
    }

    /** A field of a row as {value, text}; `join` leaves the transaction for a related record. */
    field(row, name, join, usage) {
        if (join) return this.joinedField(row, name, join, usage);
        const transaction = row.transaction;
        const line = row.data || {};
        const isMain = row.kind === 'main';
        const plain = (value) => ({ value: value === undefined || value === null ? '' : String(value), text: value === undefined || value === null ? '' : String(value) });
        const flag = (on) => ({ value: on ? 'T' : 'F', text: on ? 'T' : 'F' });
        switch (name) {
            case 'internalid':
            case 'internalidnumber':
                return plain(transaction.id);
            case 'type':
                return { value: transaction.typeCode, text: TYPE_LABELS[transaction.typeCode] };
            case 'tranid':
                return plain(transaction.tranId);
            case 'trandate':
                return plain(userDate(transaction.tranDate));
            case 'lastmodifieddate':
                return plain(userDateTime(transaction.lastModified));
            case 'memomain':
                return plain(transaction.memo);
            case 'memo':
                return plain(isMain ? transaction.memo : line.memo);
            case 'entity':
                return { value: String(transaction.entity.id), text: transaction.entity.name };
            case 'currency':
                return { value: '1', text: transaction.currency };
            case 'fxamount':
                return plain(this.amountOf(row));
            case 'taxtotal':
                return plain(isMain ? transaction.taxTotal : '');
            case 'shippingamount':
                return plain(isMain ? transaction.shipping : '');
            case 'discountamount':
                return plain(isMain ? transaction.discount : '');
            case 'createdfrom': {
                const parent = this.createdFromOf(transaction);
                return parent ? { value: String(parent.id), text: `${TYPE_LABELS[parent.typeCode]} #${parent.tranId}` } : plain('');
            }
            case 'externalid':
                return plain(transaction.externalId);
            case 'source':
                return plain(transaction.source);
            case 'paymentmethod':
                return { value: transaction.paymentMethod ? '3' : '', text: transaction.paymentMethod };
            case 'pnrefnum':
                return plain(transaction.pnRefNum);
            case 'otherrefnum':
                return plain(transaction.otherRefNum);
            case 'mainline':
                return flag(isMain);
            case 'taxline':
                return flag(row.kind === 'tax');
            case 'shipping':
                return flag(row.kind === 'shipping');
            case 'cogs':
                return flag(row.kind === 'cogs');
            case 'voided':
                return flag(transaction.voided);
            case 'line':
                return plain(row.line);
            case 'item': {
                if (row.kind !== 'item') return plain('');
                const item = this.items.get(String(line.itemId));
                return { value: String(line.itemId), text: item ? item.itemid : '' };
            }
            case 'quantity':
                return plain(row.kind === 'item' ? line.quantity : '');
            case 'rate':
                return plain(row.kind === 'item' ? line.rate : '');
            case 'taxamount':
                return plain(row.kind === 'item' ? line.taxAmount : '');
            case 'appliedtotransaction':
                return plain(row.kind === 'apply' ? row.appliedTo : '');
            default:
                break;
        }
        if (this.bodyFields.has(name)) {
            const kind = this.bodyFields.get(name);
            const value = transaction.fields[name];
            if (kind === 'checkbox') return flag(value === true || value === 'T');
            return plain(value);
        }
        if (this.columnFields.has(name)) return plain(row.kind === 'item' && line.fields ? line.fields[name] : '');
        throw netsuiteError(
            usage === 'filter' ? 'SSS_INVALID_SRCH_FILTER' : 'SSS_INVALID_SRCH_COL',
            `An nlobjSearch${usage === 'filter' ? 'Filter' : 'Column'} contains an invalid ${usage === 'filter' ? 'filter' : 'column'}, or is not in proper syntax: ${name}.`
        );
    }

    amountOf(row) {
        const transaction = row.transaction;
        switch (row.kind) {
            case 'main':
                return transaction.total;
            case 'item':
                return row.data.amount;
            case 'tax':
                return transaction.taxTotal;
            case 'shipping':
                return transaction.shipping;
            case 'cogs':
                return '12.34';
            default:
                return '';
        }
    }

    joinedField(row, name, join, usage) {
        if (join === 'createdfrom') {
            const parent = this.createdFromOf(row.transaction);
            if (!parent) return { value: '', text: '' };
            return this.field({ transaction: parent, kind: 'main', line: 0 }, name, null, usage);
        }
        if (join === 'currency') {
            if (name !== 'symbol') throw netsuiteError('SSS_INVALID_SRCH_COL', `Invalid currency column ${name}`);
            const value = row.transaction.currency;
            return { value, text: value };
        }
        if (join === 'item') {
            if (row.kind !== 'item') return { value: '', text: '' };
            const item = this.items.get(String(row.data.itemId));
            if (!STANDARD_ITEM_FIELDS.has(name) && !this.itemFields.has(name)) {
                throw netsuiteError('SSS_INVALID_SRCH_COL', `An nlobjSearchColumn contains an invalid column join: item.${name}.`);
            }
            if (!item) return { value: '', text: '' };
            const value = name === 'internalid' ? item.id : name in item ? item[name] : item.fields[name];
            return { value: value === undefined ? '' : String(value), text: value === undefined ? '' : String(value) };
        }
        throw netsuiteError('SSS_INVALID_SRCH_COLUMN_JOIN', `Unknown join ${join}`);
    }

    // -------------------------------------------------------------- filters

    matches(expression, row) {
        if (!Array.isArray(expression) || expression.length === 0) return true;
        if (typeof expression[0] === 'string' && expression[0].toUpperCase() === 'NOT') return !this.matches(expression[1], row);
        if (typeof expression[0] === 'string') return this.matchesTerm(expression, row);
        // [expr, 'AND'|'OR', expr, ...]: AND binds tighter than OR.
        const alternatives = [[]];
        expression.forEach((part) => {
            if (typeof part === 'string' && part.toUpperCase() === 'OR') alternatives.push([]);
            else if (typeof part !== 'string') alternatives[alternatives.length - 1].push(part);
        });
        return alternatives.some((conjunction) => conjunction.every((term) => this.matches(term, row)));
    }

    matchesTerm(term, row) {
        const [path, operator, ...rest] = term;
        const values = rest.flat();
        if (!anyOfSets.has(term)) anyOfSets.set(term, new Set(values.map(String)));
        const valueSet = anyOfSets.get(term);
        const [join, name] = path.includes('.') ? path.split('.') : [null, path];
        const actual = this.field(row, name.toLowerCase(), join ? join.toLowerCase() : null, 'filter').value;
        switch (operator.toLowerCase()) {
            case 'anyof':
                return valueSet.has(actual);
            case 'noneof':
                return !valueSet.has(actual);
            case 'is':
                return actual.toLowerCase() === String(values[0]).toLowerCase();
            case 'isnot':
                return actual.toLowerCase() !== String(values[0]).toLowerCase();
            case 'equalto':
                return actual !== '' && Number(actual) === Number(values[0]);
            case 'greaterthan':
                return actual !== '' && Number(actual) > Number(values[0]);
            case 'isempty':
                return actual === '';
            case 'isnotempty':
                return actual !== '';
            case 'onorafter': {
                const bound = parseUserDateTime(values[0]) || parseUserDate(values[0]);
                if (!bound) throw netsuiteError('SSS_INVALID_SRCH_FILTER_EXPR', `Invalid date value ${values[0]}`);
                return floorToMinute(row.transaction.lastModified) >= bound.getTime();
            }
            default:
                throw netsuiteError('SSS_INVALID_SRCH_OPERATOR', `Unsupported operator ${operator}`);
        }
    }

    // -------------------------------------------------------------- running searches

    results(definition) {
        const filtered = this.allRows(definition.type).filter((row) => this.matches(definition.filters, row));
        const columns = definition.columns;
        const grouped = columns.some((column) => column.summary === 'GROUP');
        const valueOf = (row, column) => this.field(row, column.name, column.join || null, 'column');
        // Every column must exist even when no row matches, as in NetSuite.
        const probe = { transaction: probeTransaction(), kind: 'main', line: 0 };
        columns.forEach((column) => valueOf(probe, column));
        let results;
        if (grouped) {
            const groups = new Map();
            filtered.forEach((row) => {
                const key = columns.map((column) => valueOf(row, column).value).join('\u0000');
                if (!groups.has(key)) groups.set(key, row);
            });
            results = Array.from(groups.values());
        } else {
            results = filtered;
        }
        const sorters = columns.filter((column) => column.sort === 'ASC' || column.sort === 'DESC');
        results.sort((left, right) => {
            for (const column of sorters) {
                const a = valueOf(left, column).value;
                const b = valueOf(right, column).value;
                const order = a === b ? 0 : Number.isNaN(Number(a)) || Number.isNaN(Number(b)) ? (a < b ? -1 : 1) : Number(a) - Number(b);
                if (order !== 0) return column.sort === 'DESC' ? -order : order;
            }
            return Number(left.transaction.id) - Number(right.transaction.id) || left.line - right.line;
        });
        return results.map((row) => this.toResult(row, columns));
    }

    toResult(row, columns) {
        const account = this;
        const find = (options) => {
            const wanted = typeof options === 'string' ? { name: options } : options;
            return columns.find(
                (column) => column.name === wanted.name && (column.join || null) === (wanted.join || null) && (column.summary || null) === (wanted.summary || null)
            );
        };
        return {
            id: String(row.transaction.id),
            recordType: RECORD_TYPES[row.transaction.typeCode],
            getValue(options) {
                const column = find(options);
                return column ? account.field(row, column.name, column.join || null, 'column').value : null;
            },
            getText(options) {
                const column = find(options);
                return column ? account.field(row, column.name, column.join || null, 'column').text : null;
            },
        };
    }

    newSearch(definition) {
        const account = this;
        const created = {
            searchType: definition.type,
            filterExpression: definition.filters,
            columns: definition.columns,
            id: definition.id,
            title: definition.title,
            isPublic: false,
            runPaged({ pageSize = 50 } = {}) {
                if (pageSize < 5 || pageSize > 1000) throw netsuiteError('SSS_INVALID_PAGE_SIZE', `Invalid page size ${pageSize}`);
                account.spend(USAGE.runPaged, 'runPaged');
                const results = account.results({ type: created.searchType, filters: created.filterExpression, columns: created.columns });
                const pageCount = Math.ceil(results.length / pageSize);
                return {
                    count: results.length,
                    pageSize,
                    pageRanges: Array.from({ length: pageCount }, (unused, index) => ({ index })),
                    fetch({ index }) {
                        if (index < 0 || index >= pageCount) throw netsuiteError('INVALID_PAGE_RANGE', `Invalid page range: ${index}`);
                        account.spend(USAGE.fetch, 'fetch');
                        return { data: results.slice(index * pageSize, (index + 1) * pageSize), isFirst: index === 0, isLast: index === pageCount - 1 };
                    },
                };
            },
            save() {
                account.spend(USAGE.save, 'save');
                const internalId = account.nextSavedSearchId++;
                account.savedSearches.set(created.id, { searchType: created.searchType, filterExpression: created.filterExpression, title: created.title, isPublic: created.isPublic, columns: created.columns });
                return internalId;
            },
        };
        return created;
    }

    // -------------------------------------------------------------- N/ module behaviour

    load({ id }) {
        this.spend(USAGE.load, 'search.load');
        const saved = this.savedSearches.get(String(id));
        if (!saved) throw netsuiteError('INVALID_SEARCH', 'That search or mass update does not exist.');
        return this.newSearch({ type: saved.searchType, filters: JSON.parse(JSON.stringify(saved.filterExpression)), columns: [], id });
    }

    create(options) {
        const definition = { type: options.type, filters: options.filters || [], columns: options.columns || [], id: options.id, title: options.title };
        this.createdSearches.push(definition);
        return this.newSearch(definition);
    }

    recordOfType(type, id) {
        const transaction = this.transaction(id);
        if (!transaction || RECORD_TYPES[transaction.typeCode] !== type) {
            throw netsuiteError('RCRD_DSNT_EXIST', `That record does not exist. path: ${type}, id: ${id}`);
        }
        return transaction;
    }

    lookupFields({ type, id, columns }) {
        this.spend(USAGE.lookupFields, 'lookupFields');
        const transaction = this.recordOfType(type, id);
        const answer = {};
        columns.forEach((name) => {
            if (name === 'internalid') answer.internalid = [{ value: String(transaction.id), text: String(transaction.id) }];
            else answer[name] = transaction.fields[name] === undefined ? '' : transaction.fields[name];
        });
        return answer;
    }

    submitFields({ type, id, values, options }) {
        this.spend(USAGE.submitFields, 'submitFields');
        const transaction = this.recordOfType(type, id);
        Object.assign(transaction.fields, values);
        transaction.lastModified = this.now;
        this.submitted.push({ type, id, values, options });
        return Number(id);
    }
}

// ------------------------------------------------------------------ wiring

/** Gives the automocked N/ modules their behaviour from `account`. */
export function installFakeNetSuite(account) {
    search.load.mockImplementation((options) => account.load(options));
    search.create.mockImplementation((options) => account.create(options));
    search.createColumn.mockImplementation((options) => ({ ...options }));
    search.lookupFields.mockImplementation((options) => account.lookupFields(options));
    record.submitFields.mockImplementation((options) => account.submitFields(options));
    runtime.getCurrentScript.mockImplementation(() => ({
        getRemainingUsage: () => account.remaining,
        getParameter: ({ name }) => (name in account.parameters ? account.parameters[name] : null),
    }));
    format.format.mockImplementation(({ value, type }) => {
        if (type === format.Type.DATE) return userDate(value.toISOString().slice(0, 10));
        return userDateTime(value);
    });
    format.parse.mockImplementation(({ value, type }) => {
        const parsed = type === format.Type.DATE ? parseUserDate(value) : parseUserDateTime(value);
        return parsed || value;
    });
    error.create.mockImplementation(({ name, message }) => netsuiteError(name, message));
    return account;
}
