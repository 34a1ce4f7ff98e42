/**
 * Every amount in the refund's own currency. In a OneWorld account only the "(Foreign Currency)"
 * column is in the transaction's currency; tax, shipping and discount columns come back in base
 * currency, the parent's when consolidated. A EUR refund of a USD-based parent must still come out
 * in EUR, whole and adding up, under every reading of what NetSuite leaves open (see the readings
 * in support/fakeNetSuite.js).
 */
import search from 'N/search';
import lib from 'SuiteScripts/refund_sync/rs_refund_export_lib';
import { addRefund, ITEMS, oneWorldAccount, storeAccount } from './support/fixtures';
import { READING_VALUES } from './support/fakeNetSuite';
import { post } from './support/restletClient';

jest.mock('N/search');
jest.mock('N/record');
jest.mock('N/runtime');
jest.mock('N/format');
jest.mock('N/log');
jest.mock('N/error');

// What the customer is refunded, in EUR: two items with 10% VAT, shipping with its VAT, and a
// header discount of 5.00 that takes 0.50 of VAT with it. Total 54.95 EUR.
const EUR_REFUND = {
    id: 601,
    currency: 'EUR',
    lines: [
        { item: ITEMS.mug, quantity: '2', rate: '10.00', amount: '20.00', tax: '2.00' },
        { item: ITEMS.shirt, quantity: '1', rate: '30.00', amount: '30.00', tax: '3.00' },
    ],
    shipping: '4.95',
    shippingTax: '0.50',
    headerDiscount: '5.00',
    discountTax: '0.50',
};
const TRUE_LINE_TAX = ['2.00', '3.00', '-0.50'];

const pageOne = () => {
    const response = post({ action: 'page', searchId: lib.DEFAULT_SAVED_SEARCH_ID, pageSize: 5 });
    if (response.error) throw new Error(JSON.stringify(response.error));
    return response.refunds[0];
};
const cents = (text) => Math.round(Number(text) * 100);

function expectTheEuroRefund(refund) {
    expect(refund).toMatchObject({
        currency: 'EUR',
        total: '54.95',
        subtotal: '50.00',
        discountTotal: '-5.00',
        taxTotal: '5.00',
        shippingAmount: '4.95',
    });
    expect(refund.lines.map((line) => line.amount)).toEqual(['20.00', '30.00', '-5.00']);
    // Line tax in EUR: each within a cent of NetSuite's own, and together exactly the tax rows'.
    refund.lines.forEach((line, index) => expect(Math.abs(cents(line.taxAmount) - cents(TRUE_LINE_TAX[index]))).toBeLessThanOrEqual(1));
    const lineTax = refund.lines.reduce((sum, line) => sum + cents(line.taxAmount), 0);
    expect(lineTax + cents(refund.shippingTax)).toBe(cents(refund.taxTotal));
    const parts = refund.lines.reduce((sum, line) => sum + cents(line.amount) + cents(line.taxAmount), 0) + cents(refund.shippingAmount) + cents(refund.shippingTax);
    expect(parts).toBe(cents(refund.total));
}

const subsidiaries = [
    ['the USD parent itself (EUR -> USD 1.0837)', { subsidiary: 1, exchangeRate: '1.0837' }],
    ['a EUR subsidiary consolidated into the USD parent', { subsidiary: 2, exchangeRate: '1' }],
    ['a GBP subsidiary (EUR -> GBP 0.8571, GBP -> USD 1.27)', { subsidiary: 3, exchangeRate: '0.8571' }],
];
const cases = subsidiaries.flatMap(([where, placement]) => READING_VALUES.lineTaxColumn.map((reading) => [where, reading, placement]));

describe('a EUR refund in a OneWorld account whose parent is USD-based', () => {
    it.each(cases)('booked in %s, tax column reading %s: every figure in EUR and the refund adds up', (where, reading, placement) => {
        const account = oneWorldAccount({ readings: { lineTaxColumn: reading } });
        addRefund(account, { ...EUR_REFUND, ...placement });
        expectTheEuroRefund(pageOne());
    });

    it('reads amounts with consolidation set to none, on every search that reads them', () => {
        const account = oneWorldAccount();
        addRefund(account, { ...EUR_REFUND, subsidiary: 2 });
        pageOne();
        const amountSearches = account.createdSearches.filter((created) => created.columns.some((column) => column.name === 'fxamount'));
        expect(amountSearches.length).toBeGreaterThanOrEqual(4);
        amountSearches.forEach((created) => expect(created.settings).toEqual([{ name: 'consolidationtype', value: 'NONE' }]));
        expect(search.createSetting).toHaveBeenCalledWith({ name: 'consolidationtype', value: 'NONE' });
    });
});

describe('a EUR refund in an account without OneWorld (USD base currency)', () => {
    it.each(READING_VALUES.settingOutsideOneWorld.flatMap((setting) => READING_VALUES.lineTaxColumn.map((column) => [setting, column])))(
        'with the consolidation setting %s there and the tax column read as %s, it comes out in EUR and whole',
        (setting, column) => {
            const account = storeAccount({ readings: { settingOutsideOneWorld: setting, lineTaxColumn: column } });
            addRefund(account, { ...EUR_REFUND, exchangeRate: '1.0837' });
            expectTheEuroRefund(pageOne());
            account.createdSearches.forEach((created) => expect(created.settings).toEqual([]));
        }
    );
});

describe('a refund in the base currency', () => {
    it('reports each line\'s own tax exactly', () => {
        const account = oneWorldAccount();
        addRefund(account, { ...EUR_REFUND, currency: 'USD' });
        const refund = pageOne();
        expect(refund.lines.map((line) => line.taxAmount)).toEqual(TRUE_LINE_TAX);
        expect(refund.shippingTax).toBe('0.50');
    });
});
