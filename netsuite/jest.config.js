// Oracle's SuiteCloud preset: maps every N/ module to its stub (tests jest.mock() the ones they
// drive) and "SuiteScripts/..." to src/FileCabinet/SuiteScripts, transpiling the AMD modules.
const SuiteCloudJestConfiguration = require('@oracle/suitecloud-unit-testing/jest-configuration/SuiteCloudJestConfiguration');

const suiteCloud = SuiteCloudJestConfiguration.build({
	projectFolder: 'src',
	projectType: SuiteCloudJestConfiguration.ProjectType.ACP,
});

module.exports = {
	...suiteCloud,
	testEnvironment: 'node',
	// The globals of server scripts (log).
	setupFilesAfterEnv: ['<rootDir>/__tests__/support/serverScriptGlobals.js'],
	// Helpers shared by the tests are not tests themselves.
	testPathIgnorePatterns: ['/node_modules/', '/__tests__/support/'],
};
