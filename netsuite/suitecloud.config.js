// SuiteCloud CLI configuration: the SDF project lives in src/ (manifest.xml, deploy.xml, Objects/, FileCabinet/).
module.exports = {
	defaultProjectFolder: 'src',
	commands: {},
};
