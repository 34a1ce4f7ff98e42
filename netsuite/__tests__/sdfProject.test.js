/**
 * The SDF project hangs together before `suitecloud project:deploy` sees it: well-formed XML,
 * object files named after their script ids with the right root element, script files that exist
 * with the right SuiteScript annotations, parameters the code reads, fields the code writes, and
 * only what its project type supports (an account customization project runs no installation
 * script).
 */
import fs from 'fs';
import os from 'os';
import path from 'path';
import lib from 'SuiteScripts/refund_sync/rs_refund_export_lib';
import { DEFAULT_PARAMETERS } from './support/fakeNetSuite';

const SRC = path.join(__dirname, '..', 'src');
const OBJECTS = path.join(SRC, 'Objects');
const read = (...parts) => fs.readFileSync(path.join(...parts), 'utf8');
const objectFiles = fs.readdirSync(OBJECTS).filter((name) => name.endsWith('.xml'));

/** Tag balance of an XML document; returns the root element's name. */
function checkWellFormed(xml, name) {
    const body = xml.replace(/<\?xml[^>]*\?>/, '').replace(/<!--[\s\S]*?-->/g, '');
    const stack = [];
    let root = null;
    for (const match of body.matchAll(/<(\/?)([A-Za-z_][\w.-]*)([^>]*?)(\/?)>/g)) {
        const [, closing, tag, , selfClosing] = match;
        if (closing) {
            const open = stack.pop();
            if (open !== tag) throw new Error(`${name}: </${tag}> closes <${open}>`);
        } else {
            if (!root) root = tag;
            else if (!stack.length) throw new Error(`${name}: second root element <${tag}>`);
            if (!selfClosing) stack.push(tag);
        }
    }
    if (stack.length) throw new Error(`${name}: <${stack.join('>, <')}> never closed`);
    if (/&(?!(amp|lt|gt|quot|apos);)/.test(body)) throw new Error(`${name}: unescaped &`);
    return root;
}

const text = (xml, tag) => {
    const match = new RegExp(`<${tag}>([^<]*)</${tag}>`).exec(xml);
    return match ? match[1] : null;
};

/*
 * What each SuiteCloud project type does not support, from Oracle's help:
 * - "SDF Installation Scripts as XML Definitions": account customization projects do not support
 *   SDF installation scripts (sdfinstallationscript objects, and the deploy file's <run> that runs
 *   them: "Customizing SuiteApp Project Deployment using SDF Installation Scripts").
 * - "Installation Preferences in the SuiteApp of SuiteCloud Project": installation preferences
 *   (the InstallationPreferences folder: locking, hiding, overwriting) apply to SuiteApp projects;
 *   "Differences Between SuiteCloud Projects": hiding files is not supported in an account
 *   customization project.
 * - "Differences Between SuiteCloud Projects": configuring account features (the
 *   AccountConfiguration folder, the deploy file's <configuration>) is not supported in a SuiteApp.
 * - "SuiteApp Projects": publisher id, project id and version are the properties of a SuiteApp.
 */
function unsupportedElements(projectFolder) {
    const problems = [];
    const manifest = fs.readFileSync(path.join(projectFolder, 'manifest.xml'), 'utf8');
    const projectType = (/<manifest projecttype="([A-Z]+)">/.exec(manifest) || [])[1];
    const deploy = fs.readFileSync(path.join(projectFolder, 'deploy.xml'), 'utf8').replace(/<!--[\s\S]*?-->/g, '');
    const objectsFolder = path.join(projectFolder, 'Objects');
    const objects = fs.existsSync(objectsFolder) ? fs.readdirSync(objectsFolder).filter((name) => name.endsWith('.xml')) : [];
    const rootOf = (file) => (/^\s*<([A-Za-z]+)/.exec(fs.readFileSync(path.join(objectsFolder, file), 'utf8')) || [])[1];
    if (projectType === 'ACCOUNTCUSTOMIZATION') {
        objects.filter((file) => rootOf(file) === 'sdfinstallationscript').forEach((file) => problems.push(`Objects/${file}: an SDF installation script`));
        if (/<run>/.test(deploy)) problems.push('deploy.xml: <run> (runs SDF installation scripts)');
        if (fs.existsSync(path.join(projectFolder, 'InstallationPreferences'))) problems.push('InstallationPreferences/: installation preferences');
        ['publisherid', 'projectid', 'projectversion'].forEach((tag) => {
            if (manifest.includes(`<${tag}>`)) problems.push(`manifest.xml: <${tag}> (a SuiteApp property)`);
        });
    } else if (projectType === 'SUITEAPP') {
        if (/<configuration>/.test(deploy)) problems.push('deploy.xml: <configuration> (account configuration)');
        if (fs.existsSync(path.join(projectFolder, 'AccountConfiguration'))) problems.push('AccountConfiguration/: account configuration');
    } else {
        problems.push(`manifest.xml: unknown project type ${projectType}`);
    }
    return problems;
}

describe('objects', () => {
    const ROOT_BY_PREFIX = { custbody_: 'transactionbodycustomfield', custcol_: 'transactioncolumncustomfield' };

    it.each(objectFiles)('%s is well formed and named after its script id', (file) => {
        const xml = read(OBJECTS, file);
        const root = checkWellFormed(xml, file);
        const scriptId = new RegExp(`<${root} scriptid="([^"]+)"`).exec(xml)[1];
        expect(`${scriptId}.xml`).toBe(file);
        const prefix = Object.keys(ROOT_BY_PREFIX).find((candidate) => scriptId.startsWith(candidate));
        if (prefix) expect(root).toBe(ROOT_BY_PREFIX[prefix]);
        else expect(['restlet', 'suitelet']).toContain(root);
    });

    it('ships the write-back fields, the exclude checkbox and the line id column, on sales transactions', () => {
        const expected = Object.values(lib.WRITE_BACK_FIELDS).concat([lib.EXCLUDE_FIELD]);
        expected.forEach((field) => expect(text(read(OBJECTS, `${field}.xml`), 'bodysale')).toBe('T'));
        expect(text(read(OBJECTS, 'custcol_rs_bc_line_id.xml'), 'colsale')).toBe('T');
        expect(text(read(OBJECTS, 'custbody_rs_exclude.xml'), 'fieldtype')).toBe('CHECKBOX');
        expect(text(read(OBJECTS, 'custbody_rs_synced_at.xml'), 'fieldtype')).toBe('DATETIMETZ');
        expect(text(read(OBJECTS, 'custbody_rs_what_to_do.xml'), 'fieldtype')).toBe('TEXTAREA');
    });

    it('gives the write-back fields room for everything the contract allows', () => {
        expect(text(read(OBJECTS, 'custbody_rs_sync_status.xml'), 'maxlength')).toBe('40');
        expect(text(read(OBJECTS, 'custbody_rs_reason_code.xml'), 'maxlength')).toBe('40');
        expect(text(read(OBJECTS, 'custbody_rs_sync_message.xml'), 'maxlength')).toBe('300');
        expect(text(read(OBJECTS, 'custbody_rs_what_to_do.xml'), 'maxlength')).toBe('1000');
    });
});

describe('scripts', () => {
    const scripts = objectFiles
        .map((file) => read(OBJECTS, file))
        .filter((xml) => xml.includes('<scriptfile>'))
        .map((xml) => ({ xml, file: /<scriptfile>\[([^\]]+)\]<\/scriptfile>/.exec(xml)[1] }));

    it.each([
        ['customscript_rs_refund_export', 'Restlet'],
        ['customscript_rs_setup', 'Suitelet'],
    ])('%s points at an existing SuiteScript 2.1 %s file', (scriptId, scriptType) => {
        const { file } = scripts.find((script) => script.xml.includes(`scriptid="${scriptId}"`));
        const source = read(SRC, 'FileCabinet', file);
        expect(source).toMatch(/@NApiVersion 2\.1/);
        expect(source).toMatch(new RegExp(`@NScriptType ${scriptType}\\b`));
        expect(source).toMatch(/@NModuleScope SameAccount/);
    });

    it('deploys the RESTlet under the ids the Python settings default to', () => {
        const xml = read(OBJECTS, 'customscript_rs_refund_export.xml');
        expect(xml).toMatch(/<scriptdeployment scriptid="customdeploy_rs_refund_export">/);
        expect(text(xml, 'status')).toBe('RELEASED');
    });

    it('offers the setup page to administrators only, behind a login', () => {
        const xml = read(OBJECTS, 'customscript_rs_setup.xml');
        expect(text(xml, 'allroles')).toBe('F');
        expect(text(xml, 'audslctrole')).toBe('ADMINISTRATOR');
        expect(text(xml, 'isonline')).toBe('F');
    });

    it('declares exactly the parameters the script reads, with the defaults the tests run on', () => {
        const xml = read(OBJECTS, 'customscript_rs_refund_export.xml');
        const declared = {};
        for (const match of xml.matchAll(/<scriptcustomfield scriptid="([^"]+)">([\s\S]*?)<\/scriptcustomfield>/g)) {
            declared[match[1]] = text(match[2], 'defaultvalue');
        }
        expect(Object.keys(declared).sort()).toEqual(Object.values(lib.PARAMETERS).sort());
        Object.entries(DEFAULT_PARAMETERS).forEach(([id, value]) => expect(declared[id]).toBe(String(value)));
        expect(declared.custscript_rs_saved_search).toBe(lib.DEFAULT_SAVED_SEARCH_ID);
    });
});

describe('project files', () => {
    it('is an account customization project that needs server-side scripting', () => {
        const manifest = read(SRC, 'manifest.xml');
        checkWellFormed(manifest, 'manifest.xml');
        expect(manifest).toMatch(/<manifest projecttype="ACCOUNTCUSTOMIZATION">/);
        expect(manifest).toMatch(/<feature required="true">SERVERSIDESCRIPTING<\/feature>/);
    });

    it('holds only what an account customization project supports', () => {
        expect(unsupportedElements(SRC)).toEqual([]);
    });

    it('deploys the scripts, then the objects, and nothing else', () => {
        const deploy = read(SRC, 'deploy.xml');
        checkWellFormed(deploy, 'deploy.xml');
        expect(deploy).toMatch(/<path>~\/FileCabinet\/SuiteScripts\/refund_sync\/\*<\/path>/);
        expect(deploy).toMatch(/<path>~\/Objects\/\*<\/path>/);
        const elements = Array.from(deploy.matchAll(/<([a-z]+)>/g), (match) => match[1]).filter((tag) => tag !== 'path');
        expect(elements).toEqual(['deploy', 'files', 'objects']);
    });

    it('lists every file of the SuiteScripts folder under the deployed path', () => {
        const folder = path.join(SRC, 'FileCabinet', 'SuiteScripts', 'refund_sync');
        expect(fs.readdirSync(folder).sort()).toEqual(['rs_refund_export_lib.js', 'rs_refund_export_rl.js', 'rs_setup_sl.js']);
    });
});

describe('the project-type check itself', () => {
    let folder;

    const project = ({ type = 'ACCOUNTCUSTOMIZATION', deploy = '<deploy><objects><path>~/Objects/*</path></objects></deploy>', objects = {}, folders = [], manifestExtra = '' }) => {
        folder = fs.mkdtempSync(path.join(os.tmpdir(), 'sdf-'));
        fs.writeFileSync(path.join(folder, 'manifest.xml'), `<manifest projecttype="${type}"><projectname>x</projectname>${manifestExtra}</manifest>`);
        fs.writeFileSync(path.join(folder, 'deploy.xml'), deploy);
        fs.mkdirSync(path.join(folder, 'Objects'));
        Object.entries(objects).forEach(([name, xml]) => fs.writeFileSync(path.join(folder, 'Objects', name), xml));
        folders.forEach((name) => fs.mkdirSync(path.join(folder, name)));
        return folder;
    };

    afterEach(() => fs.rmSync(folder, { recursive: true, force: true }));

    it('flags what the project held before: an installation script run from deploy.xml', () => {
        const problems = unsupportedElements(
            project({
                deploy: '<deploy><objects><path>~/Objects/*</path></objects><run><script><path>~/Objects/customscript_x.xml</path></script></run></deploy>',
                objects: { 'customscript_x.xml': '<sdfinstallationscript scriptid="customscript_x"></sdfinstallationscript>' },
            })
        );
        expect(problems).toEqual(['Objects/customscript_x.xml: an SDF installation script', 'deploy.xml: <run> (runs SDF installation scripts)']);
    });

    it('flags installation preferences and SuiteApp properties in an account customization project', () => {
        expect(unsupportedElements(project({ folders: ['InstallationPreferences'], manifestExtra: '<publisherid>com.x</publisherid>' }))).toEqual([
            'InstallationPreferences/: installation preferences',
            'manifest.xml: <publisherid> (a SuiteApp property)',
        ]);
    });

    it('flags account configuration in a SuiteApp, and lets its installation script be', () => {
        const problems = unsupportedElements(
            project({
                type: 'SUITEAPP',
                deploy: '<deploy><configuration><path>~/AccountConfiguration/*</path></configuration><run></run></deploy>',
                objects: { 'customscript_x.xml': '<sdfinstallationscript scriptid="customscript_x"></sdfinstallationscript>' },
            })
        );
        expect(problems).toEqual(['deploy.xml: <configuration> (account configuration)']);
    });
});
