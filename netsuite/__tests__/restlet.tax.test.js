/**
 * Tax under both of NetSuite's tax engines. Legacy tax: each item line's tax, the tax rows per
 * code. SuiteTax: item lines carry no tax amount; the tax is in the record's tax details (one
 * record.load per refund), under every reading of what Oracle leaves open: discounts applied before
 * or after tax, the shipping detail known by its reference or only by its line type, tax rows in
 * searches or not.
 */
import record from 'N/record';
import lib from 'SuiteScripts/refund_sync/rs_refund_export_lib';
import { addRefund, ITEMS, oneWorldAccount, storeAccount } from './support/fixtures';
import { READING_VALUES } from './support/fakeNetSuite';
import { pageThrough, post } from './support/restletClient';

jest.mock('N/search');
jest.mock('N/record');
jest.mock('N/runtime');
jest.mock('N/format');
jest.mock('N/log');
jest.mock('N/error');

const TWO_LINES = [
    { item: ITEMS.mug, quantity: '2', rate: '10.00', amount: '20.00' },
    { item: ITEMS.shirt, quantity: '1', rate: '30.00', amount: '30.00' },
];
const page = (pageSize = 5) => {
    const response = post({ action: 'page', searchId: lib.DEFAULT_SAVED_SEARCH_ID, pageSize });
    if (response.error) throw new Error(JSON.stringify(response.error));
    return response;
};
const cents = (text) => Math.round(Number(text) * 100);
const addsUp = (refund) =>
    refund.lines.reduce((sum, line) => sum + cents(line.amount) + cents(line.taxAmount), 0) + cents(refund.shippingAmount) + cents(refund.shippingTax) ===
    cents(refund.total);

const readingCombinations = READING_VALUES.suiteTaxDiscount.flatMap((discount) =>
    READING_VALUES.suiteTaxShipping.flatMap((shipping) => READING_VALUES.suiteTaxRows.map((rows) => [discount, shipping, rows]))
);

describe('SuiteTax', () => {
    beforeEach(() => jest.clearAllMocks());

    it.each(readingCombinations)('discount %s tax, shipping detail by %s, tax rows %s: tax read from the tax details, the refund adds up', (discount, shipping, rows) => {
        const account = storeAccount({ suiteTax: true, readings: { suiteTaxDiscount: discount, suiteTaxShipping: shipping, suiteTaxRows: rows } });
        addRefund(account, { id: 701, lines: TWO_LINES, suiteTaxRate: '0.10', shipping: '4.95', shippingTax: '0.50', headerDiscount: '5.00' });

        const [refund] = page().refunds;

        const expected = discount === 'beforeTax' ? ['1.80', '2.70', '0.00'] : ['2.00', '3.00', '0.00'];
        expect(refund.lines.map((line) => [line.itemName, line.amount, line.taxAmount])).toEqual([
            ['Blue Mug', '20.00', expected[0]],
            ['Red Shirt L', '30.00', expected[1]],
            ['Spring Sale', '-5.00', expected[2]],
        ]);
        expect(refund).toMatchObject({ shippingAmount: '4.95', shippingTax: '0.50', discountTotal: '-5.00' });
        expect(addsUp(refund)).toBe(true);
        expect(record.load).toHaveBeenCalledTimes(1);
        expect(record.load).toHaveBeenCalledWith({ type: 'creditmemo', id: '701' });
        expect(account.createdSearches.some((created) => JSON.stringify(created.filters).includes('"taxline","is","T"'))).toBe(false);
    });

    it('in a OneWorld account, a EUR refund of a USD parent: the tax details are in EUR already', () => {
        const account = oneWorldAccount({ suiteTax: true });
        addRefund(account, { id: 702, currency: 'EUR', exchangeRate: '1.0837', lines: TWO_LINES, suiteTaxRate: '0.19', shipping: '4.95', shippingTax: '0.94' });
        const [refund] = page().refunds;
        expect(refund.lines.map((line) => line.taxAmount)).toEqual(['3.80', '5.70']);
        expect(refund).toMatchObject({ currency: 'EUR', taxTotal: '10.44', total: '65.39' });
        expect(addsUp(refund)).toBe(true);
    });

    it('loads each refund\'s record once per page, and cuts the page short rather than overspend', () => {
        const account = storeAccount({ suiteTax: true });
        Array.from({ length: 120 }, (unused, index) => addRefund(account, { id: 1 + index, lines: TWO_LINES, suiteTaxRate: '0.10' }));
        const responses = pageThrough({ searchId: lib.DEFAULT_SAVED_SEARCH_ID, pageSize: 120 }, { beforeEachCall: () => account.setUsage(700) });
        const ids = responses.flatMap((response) => response.refunds.map((refund) => refund.id));
        expect(ids).toEqual(Array.from({ length: 120 }, (unused, index) => String(index + 1)));
        expect(responses.length).toBeGreaterThan(1);
        expect(responses[0].paging.truncatedByGovernance).toBe(true);
        expect(new Set(account.loadedRecords).size).toBe(120);
        responses.forEach((response) => response.refunds.forEach((refund) => expect(addsUp(refund)).toBe(true)));
    });

    it('never loads a record in a legacy-tax account', () => {
        const account = storeAccount();
        addRefund(account, { id: 703, lines: TWO_LINES.map((line) => ({ ...line, tax: '1.00' })) });
        page();
        expect(record.load).not.toHaveBeenCalled();
    });
});

describe('legacy tax', () => {
    it('reads each line\'s tax and the shipping tax, the tax rows giving the total', () => {
        const account = storeAccount();
        addRefund(account, {
            id: 801,
            lines: [
                { item: ITEMS.mug, quantity: '2', rate: '10.00', amount: '20.00', tax: '1.65', taxCode: 'CA' },
                { item: ITEMS.wrap, quantity: '1', rate: '5.00', amount: '5.00', tax: '0.00', taxCode: 'EXEMPT' },
            ],
            shipping: '6.00',
            shippingTax: '0.50',
        });
        const [refund] = page().refunds;
        expect(refund.lines.map((line) => line.taxAmount)).toEqual(['1.65', '0.00']);
        expect(refund).toMatchObject({ taxTotal: '2.15', shippingTax: '0.50', total: '33.15' });
    });

    it('gives tax on no item line to the shipping, when there is shipping', () => {
        const account = storeAccount();
        addRefund(account, { id: 802, lines: [{ item: ITEMS.mug, quantity: '1', rate: '20.00', amount: '20.00' }], shipping: '5.00', shippingTax: '0.40' });
        const [refund] = page().refunds;
        expect(refund).toMatchObject({ shippingTax: '0.40', taxTotal: '0.40' });
        expect(addsUp(refund)).toBe(true);
    });
});
