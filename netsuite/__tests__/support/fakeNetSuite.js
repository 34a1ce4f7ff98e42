/**
 * An in-memory NetSuite account wired behind Oracle's N/ module stubs.
 *
 * Test files call jest.mock('N/search') (and the other modules they drive); `installFakeNetSuite`
 * then gives the automocked functions an implementation backed by this account: transactions
 * exploded into search rows (header, item, header-discount, tax, shipping, COGS and apply rows) the
 * way NetSuite's transaction search shows them, a filter-expression evaluator, grouping, sorting,
 * runPaged paging, search settings, lookupFields / submitFields / record.load, deployment
 * parameters, account features and a governance meter that throws SSS_USAGE_LIMIT_EXCEEDED like
 * NetSuite when a script overspends. Unknown field ids raise NetSuite's invalid-column /
 * invalid-filter errors. The user's preferences: dates M/D/YYYY, times h:mm am/pm, a fixed time
 * zone offset (UTC unless a test sets another).
 *
 * What the fake models, and where Oracle is silent the readings it offers (account.readings):
 *
 * - OneWorld and currencies. A transaction has a currency and an exchange rate to its subsidiary's
 *   base currency; a subsidiary has a consolidated rate to the parent's base currency. Only the
 *   "(Foreign Currency)" column fxamount is in the transaction's currency. The other amount
 *   columns (amount, taxtotal, shippingamount, discountamount, taxamount) are in base currency:
 *   the parent's, consolidated, unless the search's Consolidated Exchange Rate setting is None,
 *   then the subsidiary's (NetSuite help, "search.Setting": consolidationtype affects how
 *   consolidation is performed; transaction searches, OneWorld only). Reading
 *   `lineTaxColumn`: 'base' (default; what the issue reports for taxamount and taxtotal) or
 *   'transaction' (Oracle lists no foreign-currency variant, so either is possible). Reading
 *   `settingOutsideOneWorld`: 'ignored' or 'rejected' (SSS_INVALID_SRCH_SETTING; the setting is
 *   documented as applicable only to OneWorld accounts).
 * - Discounts. discountamount is filled on item rows of discount items, never on the main line;
 *   a header discount is its own row (transactiondiscount T), an item row like any other.
 * - Legacy tax: each item line has its tax (taxamount) and tax code; the tax rows (taxline T)
 *   carry the tax per code, shipping tax included, in fxamount.
 * - SuiteTax: item rows carry no taxamount; the tax lives in the record's taxdetails sublist
 *   (record.load; NetSuite help, "Tax Details on Transactions in SuiteTax"), linked to item lines by
 *   taxdetailsreference, amounts in the transaction's currency and with the sign of the form.
 *   Readings: `suiteTaxRows`: 'absent' (default) or 'present' (tax rows in searches as well);
 *   `suiteTaxShipping`: 'reference' (the detail of shipping has the reference SHIPPING, as the
 *   Commerce "taxdetails" object documents) or 'lineType' (only its line type says Shipping);
 *   `suiteTaxDiscount`: 'beforeTax' or 'afterTax' (help: "discounts can be applied before or after
 *   tax, depending on the tax engine implementation").
 * - Date-time fields. submitFields stores a Date as that instant; a string is parsed in the
 *   user's format and time zone (a datetimetz value is a point in time); search filters and result
 *   columns are in the user's time zone. N/format: a `timezone` option names the zone the string is
 *   in; without one, reading `serverFormatZone`: 'user' (the user's time zone) or 'pacific' (help,
 *   "format.format(options)" and "format.parse(options)": for server scripts the string is based
 *   on the Pacific Time Zone, daylight saving time applying), for datetime and datetimetz alike.
 * - Closed periods. Saving a transaction whose accounting period is closed is refused unless the
 *   period allows non-G/L changes (help, "Accounting Period": allowNonGLChanges). Oracle documents
 *   no error code: reading `closedPeriodError`: 'named', 'generic' ("a closed period") or 'notOpen'
 *   (the date "not within" an open period's range).
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

export const DEFAULT_READINGS = Object.freeze({
    lineTaxColumn: 'base',
    settingOutsideOneWorld: 'ignored',
    suiteTaxRows: 'absent',
    suiteTaxShipping: 'reference',
    suiteTaxDiscount: 'beforeTax',
    serverFormatZone: 'user',
    closedPeriodError: 'named',
});

/** Every value each reading can take, for tests that run under all of them. */
export const READING_VALUES = Object.freeze({
    lineTaxColumn: ['base', 'transaction'],
    settingOutsideOneWorld: ['ignored', 'rejected'],
    suiteTaxRows: ['absent', 'present'],
    suiteTaxShipping: ['reference', 'lineType'],
    suiteTaxDiscount: ['beforeTax', 'afterTax'],
    serverFormatZone: ['user', 'pacific'],
    closedPeriodError: ['named', 'generic', 'notOpen'],
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
// NetSuite help: search.load, runPaged, fetch 5 units; lookupFields 1; record.load and
// submitFields 10 on transactions; Search.save 5.
const USAGE = { load: 5, runPaged: 5, fetch: 5, lookupFields: 1, submitFields: 10, recordLoad: 10, save: 5 };
const PACIFIC = 'America/Los_Angeles';

/** Minutes east of UTC of an IANA zone at an instant (daylight saving time included). */
function zoneOffsetMinutes(zone, instant) {
    const parts = Object.fromEntries(
        new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric' })
            .formatToParts(instant)
            .map((part) => [part.type, Number(part.value)]),
    );
    const asUtc = Date.UTC(parts.year, parts.month - 1, parts.day, parts.hour, parts.minute);
    return Math.round((asUtc - Math.floor(instant.getTime() / 60000) * 60000) / 60000);
}

// Fields every transaction row answers; custom fields are declared per account.
const STANDARD_TRANSACTION_FIELDS = new Set([
    'internalid', 'internalidnumber', 'type', 'tranid', 'trandate', 'lastmodifieddate', 'memomain', 'memo', 'entity',
    'currency', 'fxamount', 'amount', 'taxtotal', 'shippingamount', 'discountamount', 'createdfrom', 'externalid', 'source',
    'paymentmethod', 'pnrefnum', 'otherrefnum', 'mainline', 'taxline', 'shipping', 'cogs', 'voided', 'line', 'lineuniquekey',
    'item', 'quantity', 'rate', 'taxamount', 'appliedtotransaction', 'transactiondiscount', 'subsidiary', 'exchangerate',
]);
const STANDARD_ITEM_FIELDS = new Set(['internalid', 'itemid', 'type', 'displayname']);
export { STANDARD_TRANSACTION_FIELDS };

export function netsuiteError(name, message) {
    const thrown = new Error(message);
    thrown.name = name;
    thrown.type = 'error.SuiteScriptError';
    return thrown;
}

// ------------------------------------------------------------------ exact money

/** "-12.50" -> -1250 (cents); the fake stores money as strings with two decimals. */
export const cents = (text) => (text === '' || text === null || text === undefined ? 0 : Math.round(Number(text) * 100));
export const money = (units) => (units / 100).toFixed(2);

/** a / b rounded half away from zero, in integers. */
function roundDiv(a, b) {
    const negative = a < 0 !== b < 0;
    const [x, y] = [Math.abs(a), Math.abs(b)];
    const q = Math.floor((2 * x + y) / (2 * y));
    return negative ? -q : q;
}

/** cents x rate ("1.0825"), rounded to the cent. */
function timesRate(units, rate) {
    const [whole, fraction = ''] = String(rate).split('.');
    const denominator = 10 ** fraction.length;
    return roundDiv(units * Number(whole + fraction), denominator);
}

// ------------------------------------------------------------------ user preferences

const pad2 = (number) => String(number).padStart(2, '0');

export function userDate(isoDate) {
    const [year, month, day] = isoDate.split('-').map(Number);
    return `${month}/${day}/${year}`;
}

/** An instant as the user reads it: M/D/YYYY h:mm am in a zone `offsetMinutes` from UTC. */
export function userDateTime(instant, offsetMinutes = 0) {
    const date = new Date(new Date(instant).getTime() + offsetMinutes * 60000);
    const hours = date.getUTCHours();
    const hour12 = hours % 12 === 0 ? 12 : hours % 12;
    return `${date.getUTCMonth() + 1}/${date.getUTCDate()}/${date.getUTCFullYear()} ${hour12}:${pad2(date.getUTCMinutes())} ${hours < 12 ? 'am' : 'pm'}`;
}

function parseUserDate(text) {
    const match = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/.exec(String(text).trim());
    return match ? new Date(Number(match[3]), Number(match[1]) - 1, Number(match[2])) : null;
}

function parseUserDateTime(text, offsetMinutes = 0) {
    const match = /^(\d{1,2})\/(\d{1,2})\/(\d{4}) (\d{1,2}):(\d{2}) (am|pm)$/.exec(String(text).trim());
    if (!match) return null;
    const hour = (Number(match[4]) % 12) + (match[6] === 'pm' ? 12 : 0);
    return new Date(Date.UTC(Number(match[3]), Number(match[1]) - 1, Number(match[2]), hour, Number(match[5])) - offsetMinutes * 60000);
}

const probeTransaction = () => ({
    id: 0, typeCode: 'CustCred', tranId: '', tranDate: '2024-01-01', lastModified: '2024-01-01T00:00:00Z',
    entity: { id: 0, name: '' }, currency: 'USD', subsidiary: 1, exchangeRate: '1', fields: {}, lines: [], appliedTo: [],
    total: '0.00', shipping: '0.00', shippingTax: '0.00', taxDetails: [],
});

// Filter terms are evaluated once per row: remember each term's value set.
const anyOfSets = new WeakMap();

const floorToMinute = (instant) => Math.floor(new Date(instant).getTime() / 60000) * 60000;

// ------------------------------------------------------------------ the account

export class FakeAccount {
    constructor({ usage = 5000, parameters = {}, oneWorld = false, suiteTax = false, readings = {} } = {}) {
        this.remaining = usage;
        this.parameters = { ...DEFAULT_PARAMETERS, ...parameters };
        this.features = { SUBSIDIARIES: oneWorld, TAX_OVERHAULING: suiteTax, MULTICURRENCY: true };
        this.readings = { ...DEFAULT_READINGS, ...readings };
        this.userOffsetMinutes = 0;
        this.transactions = new Map();
        this.items = new Map();
        this.savedSearches = new Map();
        // The parent subsidiary is the root; its base currency is the consolidation currency.
        this.subsidiaries = new Map([[1, { id: 1, name: 'Parent Company', baseCurrency: 'USD', consolidatedRate: '1' }]]);
        this.bodyFields = new Map([
            ['custbody_fa_channel_order', 'text'],
            ['custbody_rs_exclude', 'checkbox'],
            ['custbody_rs_bc_refund_id', 'text'],
            ['custbody_rs_sync_status', 'text'],
            ['custbody_rs_reason_code', 'text'],
            ['custbody_rs_sync_message', 'text'],
            ['custbody_rs_what_to_do', 'textarea'],
            ['custbody_rs_synced_at', 'datetimetz'],
        ]);
        this.columnFields = new Set(['custcol_rs_bc_line_id']);
        this.itemFields = new Set();
        this.now = '2024-05-01T12:00:00Z';
        this.createdSearches = [];
        this.submitted = [];
        this.loadedRecords = [];
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

    get oneWorld() {
        return this.features.SUBSIDIARIES;
    }

    get suiteTax() {
        return this.features.TAX_OVERHAULING;
    }

    addSubsidiary(subsidiary) {
        this.subsidiaries.set(subsidiary.id, { consolidatedRate: '1', ...subsidiary });
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
            subsidiary: 1,
            exchangeRate: '1',
            memo: '',
            total: '0.00',
            shipping: '0.00',
            shippingTax: '0.00',
            shippingTaxCode: 'VAT',
            createdFrom: null,
            fields: {},
            externalId: '',
            source: '',
            paymentMethod: '',
            pnRefNum: '',
            otherRefNum: '',
            voided: false,
            periodClosed: false,
            periodAllowsNonGLChanges: false,
            lines: [],
            taxDetails: [],
            appliedTo: [],
            tranDate: '2024-04-15',
            lastModified: '2024-04-15T10:00:00Z',
            ...transaction,
        };
        stored.lines = stored.lines.map((line, index) => ({ lineKey: String(Number(stored.id) * 100 + index + 1), taxCode: 'VAT', fields: {}, ...line }));
        this.transactions.set(String(stored.id), stored);
        return stored;
    }

    transaction(id) {
        return this.transactions.get(String(id));
    }

    addSavedSearch(id, { searchType = 'transaction', filterExpression = [], title = id } = {}) {
        this.savedSearches.set(id, { searchType, filterExpression, title });
    }

    /** Searches the script created, in order: type, filter expression, columns, settings. */
    searchesWithColumn(name, join) {
        return this.createdSearches.filter((created) => created.columns.some((column) => column.name === name && (column.join || null) === (join || null)));
    }

    // -------------------------------------------------------------- money in base currency

    /** A transaction-currency amount as a base-currency column reports it under `consolidation`. */
    baseAmount(transaction, fxText, consolidation) {
        if (fxText === '' || fxText === null || fxText === undefined) return '';
        let units = timesRate(cents(fxText), transaction.exchangeRate);
        if (this.oneWorld && consolidation !== 'NONE') {
            const subsidiary = this.subsidiaries.get(transaction.subsidiary);
            units = timesRate(units, subsidiary.consolidatedRate);
        }
        return money(units);
    }

    taxTotalOf(transaction) {
        if (this.suiteTax) return money(this.suiteTaxDetails(transaction).reduce((sum, detail) => sum - cents(detail.taxamount), 0));
        return money(transaction.lines.reduce((sum, line) => sum + cents(line.taxAmount), 0) + cents(transaction.shippingTax));
    }

    /** Tax rows: legacy tax, one per tax code; SuiteTax only under the 'present' reading. */
    taxRowsOf(transaction) {
        if (this.suiteTax && this.readings.suiteTaxRows !== 'present') return [];
        const byCode = new Map();
        const add = (code, units) => byCode.set(code, (byCode.get(code) || 0) + units);
        if (this.suiteTax) {
            this.suiteTaxDetails(transaction).forEach((detail) => add(detail.taxcode, -cents(detail.taxamount)));
        } else {
            transaction.lines.forEach((line) => add(line.taxCode, cents(line.taxAmount)));
            if (cents(transaction.shippingTax)) add(transaction.shippingTaxCode, cents(transaction.shippingTax));
        }
        return Array.from(byCode.entries())
            .filter(([, units]) => units !== 0)
            .map(([code, units], index) => ({ code, amount: money(units), line: 900 + index }));
    }

    /**
     * The record's taxdetails sublist (SuiteTax), signs as on the form: positive for what the
     * refund gives back. Stored line taxes are in the search's refund sign (negative).
     */
    suiteTaxDetails(transaction) {
        if (transaction.taxDetails.length) return transaction.taxDetails;
        const details = [];
        transaction.lines.forEach((line) => {
            if (!line.taxCode) return;
            details.push({ taxdetailsreference: `TDR-${line.lineKey}`, linetype: 'Item', taxcode: line.taxCode, taxamount: money(-cents(line.taxAmount)) });
        });
        if (cents(transaction.shippingTax)) {
            details.push({
                taxdetailsreference: this.readings.suiteTaxShipping === 'reference' ? 'SHIPPING' : `TDR-SHIP-${transaction.id}`,
                linetype: 'Shipping',
                taxcode: transaction.shippingTaxCode,
                taxamount: money(-cents(transaction.shippingTax)),
            });
        }
        return details;
    }

    // -------------------------------------------------------------- rows

    rowsOf(transaction) {
        const rows = [{ transaction, kind: 'main', line: 0 }];
        transaction.lines.forEach((line) => {
            rows.push({ transaction, kind: 'item', line: line.line, data: line });
            const item = this.items.get(String(line.itemId));
            if (item && item.type === 'InvtPart') rows.push({ transaction, kind: 'cogs', line: line.line });
        });
        this.taxRowsOf(transaction).forEach((taxRow) => rows.push({ transaction, kind: 'tax', line: taxRow.line, data: taxRow }));
        if (cents(transaction.shipping)) rows.push({ transaction, kind: 'shipping', line: 950 });
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
    field(row, name, join, usage, consolidation) {
        if (join) return this.joinedField(row, name, join, usage, consolidation);
        const transaction = row.transaction;
        const line = row.data || {};
        const isMain = row.kind === 'main';
        const isItem = row.kind === 'item';
        const plain = (value) => ({ value: value === undefined || value === null ? '' : String(value), text: value === undefined || value === null ? '' : String(value) });
        const flag = (on) => ({ value: on ? 'T' : 'F', text: on ? 'T' : 'F' });
        const base = (fx) => plain(this.baseAmount(transaction, fx, consolidation));
        const taxColumn = (fx) => (this.readings.lineTaxColumn === 'transaction' ? plain(fx) : base(fx));
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
                return plain(userDateTime(transaction.lastModified, this.userOffsetMinutes));
            case 'memomain':
                return plain(transaction.memo);
            case 'memo':
                return plain(isMain ? transaction.memo : line.memo);
            case 'entity':
                return { value: String(transaction.entity.id), text: transaction.entity.name };
            case 'currency':
                return { value: '1', text: transaction.currency };
            case 'subsidiary': {
                const subsidiary = this.subsidiaries.get(transaction.subsidiary);
                return { value: String(subsidiary.id), text: subsidiary.name };
            }
            case 'exchangerate':
                return plain(transaction.exchangeRate);
            case 'fxamount':
                return plain(this.amountOf(row));
            case 'amount':
                return base(this.amountOf(row));
            case 'taxtotal':
                return isMain ? taxColumn(this.taxTotalOf(transaction)) : plain('');
            case 'shippingamount':
                return isMain ? base(transaction.shipping) : plain('');
            case 'discountamount': {
                const item = isItem ? this.items.get(String(line.itemId)) : null;
                return item && item.type === 'Discount' ? base(line.amount) : plain('');
            }
            case 'transactiondiscount':
                return flag(isItem && Boolean(line.transactionDiscount));
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
            case 'lineuniquekey':
                return plain(isItem ? line.lineKey : '');
            case 'item': {
                if (!isItem) return plain('');
                const item = this.items.get(String(line.itemId));
                return { value: String(line.itemId), text: item ? item.itemid : '' };
            }
            case 'quantity':
                return plain(isItem ? line.quantity : '');
            case 'rate':
                return plain(isItem ? line.rate : '');
            case 'taxamount':
                // SuiteTax: item lines carry no tax of their own; it is in the tax details.
                return isItem && !this.suiteTax ? taxColumn(line.taxAmount) : plain('');
            case 'appliedtotransaction':
                return plain(row.kind === 'apply' ? row.appliedTo : '');
            default:
                break;
        }
        if (this.bodyFields.has(name)) {
            const kind = this.bodyFields.get(name);
            const value = transaction.fields[name];
            if (kind === 'checkbox') return flag(value === true || value === 'T');
            if (value instanceof Date) return plain(userDateTime(value, this.userOffsetMinutes));
            return plain(value);
        }
        if (this.columnFields.has(name)) return plain(isItem && line.fields ? line.fields[name] : '');
        throw netsuiteError(
            usage === 'filter' ? 'SSS_INVALID_SRCH_FILTER' : 'SSS_INVALID_SRCH_COL',
            `An nlobjSearch${usage === 'filter' ? 'Filter' : 'Column'} contains an invalid ${usage === 'filter' ? 'filter' : 'column'}, or is not in proper syntax: ${name}.`
        );
    }

    /** fxamount of a row, in the transaction's currency and the search's refund sign. */
    amountOf(row) {
        const transaction = row.transaction;
        switch (row.kind) {
            case 'main':
                return transaction.total;
            case 'item':
                return row.data.amount;
            case 'tax':
                return row.data.amount;
            case 'shipping':
                return transaction.shipping;
            case 'cogs':
                return '12.34';
            default:
                return '';
        }
    }

    joinedField(row, name, join, usage, consolidation) {
        if (join === 'createdfrom') {
            const parent = this.createdFromOf(row.transaction);
            if (!parent) return { value: '', text: '' };
            return this.field({ transaction: parent, kind: 'main', line: 0 }, name, null, usage, consolidation);
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
                const bound = parseUserDateTime(values[0], this.userOffsetMinutes) || parseUserDate(values[0]);
                if (!bound) throw netsuiteError('SSS_INVALID_SRCH_FILTER_EXPR', `Invalid date value ${values[0]}`);
                return floorToMinute(row.transaction.lastModified) >= bound.getTime();
            }
            default:
                throw netsuiteError('SSS_INVALID_SRCH_OPERATOR', `Unsupported operator ${operator}`);
        }
    }

    // -------------------------------------------------------------- running searches

    consolidationOf(settings) {
        const setting = (settings || []).find((entry) => entry.name === 'consolidationtype');
        if (!setting) return null;
        if (!['ACCTTYPE', 'AVERAGE', 'CURRENT', 'HISTORICAL', 'NONE'].includes(setting.value)) {
            throw netsuiteError('SSS_INVALID_SRCH_SETTING_VALUE', `Invalid value ${setting.value} for consolidationtype`);
        }
        if (!this.oneWorld && this.readings.settingOutsideOneWorld === 'rejected') {
            throw netsuiteError('SSS_INVALID_SRCH_SETTING', 'The consolidationtype setting is available in OneWorld accounts only.');
        }
        return setting.value;
    }

    results(definition) {
        const consolidation = this.consolidationOf(definition.settings);
        const filtered = this.allRows(definition.type).filter((row) => this.matches(definition.filters, row));
        const columns = definition.columns;
        const grouped = columns.some((column) => column.summary === 'GROUP');
        const valueOf = (row, column) => this.field(row, column.name, column.join || null, 'column', consolidation);
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
        return results.map((row) => this.toResult(row, columns, consolidation));
    }

    toResult(row, columns, consolidation) {
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
                return column ? account.field(row, column.name, column.join || null, 'column', consolidation).value : null;
            },
            getText(options) {
                const column = find(options);
                return column ? account.field(row, column.name, column.join || null, 'column', consolidation).text : null;
            },
        };
    }

    newSearch(definition) {
        const account = this;
        const created = {
            searchType: definition.type,
            filterExpression: definition.filters,
            columns: definition.columns,
            settings: definition.settings || [],
            id: definition.id,
            title: definition.title,
            isPublic: false,
            runPaged({ pageSize = 50 } = {}) {
                if (pageSize < 5 || pageSize > 1000) throw netsuiteError('SSS_INVALID_PAGE_SIZE', `Invalid page size ${pageSize}`);
                account.spend(USAGE.runPaged, 'runPaged');
                const results = account.results({ type: created.searchType, filters: created.filterExpression, columns: created.columns, settings: created.settings });
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
                if (account.savedSearches.has(created.id)) throw netsuiteError('DUP_RCRD', `A saved search with id ${created.id} already exists.`);
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
        const definition = {
            type: options.type,
            filters: options.filters || [],
            columns: options.columns || [],
            settings: options.settings || [],
            id: options.id,
            title: options.title,
        };
        this.consolidationOf(definition.settings);
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
            else {
                const value = transaction.fields[name];
                answer[name] = value === undefined ? '' : value instanceof Date ? userDateTime(value, this.userOffsetMinutes) : value;
            }
        });
        return answer;
    }

    /** What a body field stores when a script submits `value` to it. */
    storedValue(name, value) {
        const kind = this.bodyFields.get(name);
        if (kind !== 'datetimetz' && kind !== 'datetime') return value;
        if (value instanceof Date) return new Date(value.getTime());
        if (value === '' || value === null) return '';
        const parsed = parseUserDateTime(value, this.userOffsetMinutes);
        if (!parsed) throw netsuiteError('INVALID_FLD_VALUE', `You have entered an Invalid Field Value ${value} for the following field: ${name}`);
        return parsed;
    }

    submitFields({ type, id, values, options }) {
        this.spend(USAGE.submitFields, 'submitFields');
        const transaction = this.recordOfType(type, id);
        if (transaction.periodClosed && !transaction.periodAllowsNonGLChanges) {
            const refusals = {
                named: ['ACCOUNTING_PERIOD_CLOSED', 'The accounting period of this transaction is closed.'],
                generic: ['USER_ERROR', 'You cannot make changes to a transaction in a closed period.'],
                notOpen: ['USER_ERROR', 'The transaction date you specified is not within the date range of your accounting period.'],
            };
            throw netsuiteError(...refusals[this.readings.closedPeriodError]);
        }
        Object.entries(values).forEach(([name, value]) => {
            transaction.fields[name] = this.storedValue(name, value);
        });
        transaction.lastModified = this.now;
        this.submitted.push({ type, id, values, options });
        return Number(id);
    }

    /** record.load of a refund: its item and taxdetails sublists (read only). */
    loadRecord({ type, id }) {
        this.spend(USAGE.recordLoad, 'record.load');
        const transaction = this.recordOfType(type, id);
        this.loadedRecords.push(String(id));
        const details = this.suiteTax ? this.suiteTaxDetails(transaction) : [];
        const sublists = {
            item: transaction.lines.map((line) => ({ lineuniquekey: line.lineKey, taxdetailsreference: this.suiteTax ? `TDR-${line.lineKey}` : '', amount: money(-cents(line.amount)) })),
            taxdetails: details,
        };
        const rows = (sublistId) => {
            if (!(sublistId in sublists)) throw netsuiteError('SSS_INVALID_SUBLIST_OPERATION', `Unknown sublist ${sublistId}`);
            return sublists[sublistId];
        };
        return {
            id: Number(id),
            type,
            getLineCount: ({ sublistId }) => rows(sublistId).length,
            getSublistValue: ({ sublistId, fieldId, line }) => {
                const row = rows(sublistId)[line];
                if (!row) throw netsuiteError('SSS_INVALID_SUBLIST_OPERATION', `No line ${line} in ${sublistId}`);
                return fieldId in row ? row[fieldId] : '';
            },
        };
    }
}

// ------------------------------------------------------------------ wiring

/** Gives the automocked N/ modules their behaviour from `account`. */
export function installFakeNetSuite(account) {
    search.load.mockImplementation((options) => account.load(options));
    search.create.mockImplementation((options) => account.create(options));
    search.createColumn.mockImplementation((options) => ({ ...options }));
    search.createSetting.mockImplementation((options) => ({ name: options.name, value: options.value }));
    search.lookupFields.mockImplementation((options) => account.lookupFields(options));
    record.submitFields.mockImplementation((options) => account.submitFields(options));
    record.load.mockImplementation((options) => account.loadRecord(options));
    runtime.getCurrentScript.mockImplementation(() => ({
        getRemainingUsage: () => account.remaining,
        getParameter: ({ name }) => (name in account.parameters ? account.parameters[name] : null),
    }));
    runtime.isFeatureInEffect.mockImplementation(({ feature }) => Boolean(account.features[String(feature).toUpperCase()]));
    // The zone a date-time string is in: the one the script names, else per the reading.
    const offsetAt = (timezone, instant) => {
        const zone = timezone || (account.readings.serverFormatZone === 'pacific' ? PACIFIC : null);
        return zone ? zoneOffsetMinutes(zone, instant) : account.userOffsetMinutes;
    };
    format.format.mockImplementation(({ value, type, timezone }) => {
        if (type === format.Type.DATE) return userDate(value.toISOString().slice(0, 10));
        return userDateTime(value, offsetAt(timezone, new Date(value)));
    });
    format.parse.mockImplementation(({ value, type, timezone }) => {
        if (type === format.Type.DATE) return parseUserDate(value) || value;
        const naive = parseUserDateTime(value, 0);
        if (!naive) return value;
        // the offset at the local time read as UTC, then once more at the instant it gives
        const first = new Date(naive.getTime() - offsetAt(timezone, naive) * 60000);
        return new Date(naive.getTime() - offsetAt(timezone, first) * 60000);
    });
    error.create.mockImplementation(({ name, message }) => netsuiteError(name, message));
    return account;
}
