/**
 * The globals NetSuite gives every server script: `log` (the N/log methods). The scripts use it
 * instead of loading N/log, as eslint-plugin-suitescript's no-log-module rule asks.
 */
global.log = { debug: jest.fn(), audit: jest.fn(), error: jest.fn(), emergency: jest.fn() };
