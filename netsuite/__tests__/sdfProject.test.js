/**
 * The SDF project hangs together before `suitecloud project:deploy` sees it: well-formed XML,
 * object files named after their script ids with the right root element, script files that exist
 * with the right SuiteScript annotations, parameters the code reads, fields the code writes, and a
 * deploy.xml that ships all of it and runs the installation script last.
 */
import fs from 'fs';
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

describe('objects', () => {
    const ROOT_BY_PREFIX = { custbody_: 'transactionbodycustomfield', custcol_: 'transactioncolumncustomfield' };

    it.each(objectFiles)('%s is well formed and named after its script id', (file) => {
        const xml = read(OBJECTS, file);
        const root = checkWellFormed(xml, file);
        const scriptId = new RegExp(`<${root} scriptid="([^"]+)"`).exec(xml)[1];
        expect(`${scriptId}.xml`).toBe(file);
        const prefix = Object.keys(ROOT_BY_PREFIX).find((candidate) => scriptId.startsWith(candidate));
        if (prefix) expect(root).toBe(ROOT_BY_PREFIX[prefix]);
        else expect(['restlet', 'sdfinstallationscript']).toContain(root);
    });

    it('ships the write-back fields, the exclude checkbox and the line id column, on sales transactions', () => {
        const expected = Object.values(lib.WRITE_BACK_FIELDS).concat([lib.EXCLUDE_FIELD]);
        expected.forEach((field) => expect(text(read(OBJECTS, `${field}.xml`), 'bodysale')).toBe('T'));
        expect(text(read(OBJECTS, 'custcol_rs_bc_line_id.xml'), 'colsale')).toBe('T');
        expect(text(read(OBJECTS, 'custbody_rs_exclude.xml'), 'fieldtype')).toBe('CHECKBOX');
        expect(text(read(OBJECTS, 'custbody_rs_synced_at.xml'), 'fieldtype')).toBe('DATETIMETZ');
    });

    it('gives the status and message fields room for everything the contract allows', () => {
        expect(text(read(OBJECTS, 'custbody_rs_sync_status.xml'), 'maxlength')).toBe('40');
        expect(text(read(OBJECTS, 'custbody_rs_sync_message.xml'), 'maxlength')).toBe('300');
    });
});

describe('scripts', () => {
    const scripts = objectFiles
        .map((file) => read(OBJECTS, file))
        .filter((xml) => xml.includes('<scriptfile>'))
        .map((xml) => ({ xml, file: /<scriptfile>\[([^\]]+)\]<\/scriptfile>/.exec(xml)[1] }));

    it.each([
        ['customscript_rs_refund_export', 'Restlet'],
        ['customscript_rs_install', 'SDFInstallationScript'],
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

    it('deploys the scripts and objects, then runs the installation script', () => {
        const deploy = read(SRC, 'deploy.xml');
        checkWellFormed(deploy, 'deploy.xml');
        expect(deploy).toMatch(/<path>~\/FileCabinet\/SuiteScripts\/refund_sync\/\*<\/path>/);
        expect(deploy).toMatch(/<path>~\/Objects\/\*<\/path>/);
        expect(deploy.indexOf('<run>')).toBeGreaterThan(deploy.indexOf('<objects>'));
        const installer = read(OBJECTS, 'customscript_rs_install.xml');
        const deployment = /<deployment>([^<]+)<\/deployment>/.exec(deploy)[1];
        expect(installer).toContain(`<scriptdeployment scriptid="${deployment}">`);
        expect(fs.existsSync(path.join(OBJECTS, /~\/Objects\/(customscript_rs_install\.xml)/.exec(deploy)[1]))).toBe(true);
    });

    it('lists every file of the SuiteScripts folder under the deployed path', () => {
        const folder = path.join(SRC, 'FileCabinet', 'SuiteScripts', 'refund_sync');
        expect(fs.readdirSync(folder).sort()).toEqual(['rs_install.js', 'rs_refund_export_lib.js', 'rs_refund_export_rl.js']);
    });
});
