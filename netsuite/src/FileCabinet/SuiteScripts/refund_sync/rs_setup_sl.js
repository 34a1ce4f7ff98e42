/**
 * refund-sync: the setup page. An administrator opens it once after `suitecloud project:deploy`
 * (Customization > Scripting > Script Deployments > refund-sync Setup > the deployment's URL).
 * GET lists the saved searches refund-sync expects and whether the account has them; POST creates
 * the missing ones, public, and never changes one that exists, so an administrator's edits survive.
 *
 * Why a page: an account customization project cannot run an SDF installation script (NetSuite
 * help, "SDF Installation Scripts as XML Definitions": account customization projects do not
 * support them), and a savedsearch object can only be imported from an account where the search
 * already exists, never written by hand ("Saved Searches as XML Definitions").
 *
 * @NApiVersion 2.1
 * @NScriptType Suitelet
 * @NModuleScope SameAccount
 */
define(['N/search', './rs_refund_export_lib'], (search, lib) => {
    'use strict';

    // What search.load answers for a search that does not exist.
    const SEARCH_MISSING_ERRORS = /^(INVALID_SEARCH|SSS_INVALID_SRCH_ID|RCRD_DSNT_EXIST|INVALID_RCRD_TYPE)$/;

    const escapeHtml = (text) =>
        String(text).replace(/[&<>"']/g, (character) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[character]);

    /** 'present', 'missing', or {problem} when the search cannot even be looked at. */
    function stateOf(id) {
        try {
            search.load({ id });
            return 'present';
        } catch (thrown) {
            if (SEARCH_MISSING_ERRORS.test(String(thrown && thrown.name))) return 'missing';
            return { problem: `${thrown.name}: ${thrown.message}` };
        }
    }

    function createSavedSearch(definition) {
        const columns = definition.columns.map((column) =>
            search.createColumn(column.sort ? { name: column.name, sort: search.Sort[column.sort] } : { name: column.name })
        );
        const created = search.create({ type: definition.type, id: definition.id, title: definition.title, filters: definition.filters, columns });
        // The RESTlet runs as the integration role, which can only load a search it can see.
        created.isPublic = true;
        return created.save();
    }

    /** Each expected search with what happened to it: present, created, missing or a problem. */
    function setUp(create) {
        return lib.savedSearchDefinitions().map((definition) => {
            const state = stateOf(definition.id);
            if (state !== 'missing' || !create) return { definition, state };
            try {
                const internalId = createSavedSearch(definition);
                log.audit({ title: 'refund-sync setup', details: `Created saved search ${definition.id} (internal id ${internalId}).` });
                return { definition, state: 'created', internalId };
            } catch (thrown) {
                log.error({ title: 'refund-sync setup', details: `Could not create saved search ${definition.id}: ${thrown.name}: ${thrown.message}` });
                return { definition, state: { problem: `${thrown.name}: ${thrown.message}` } };
            }
        });
    }

    function describe(outcome) {
        if (outcome.state === 'present') return 'exists: left as it is';
        if (outcome.state === 'created') return `created (internal id ${outcome.internalId}), public`;
        if (outcome.state === 'missing') return 'missing';
        return `could not be set up (${outcome.state.problem}). Check that the refund-sync fields were deployed, or create it by hand as netsuite/README.md describes.`;
    }

    function page(outcomes) {
        const rows = outcomes
            .map((outcome) => `<tr><td>${escapeHtml(outcome.definition.title)}</td><td><code>${escapeHtml(outcome.definition.id)}</code></td><td>${escapeHtml(describe(outcome))}</td></tr>`)
            .join('');
        const missing = outcomes.some((outcome) => outcome.state === 'missing');
        const button = missing ? '<form method="POST"><button type="submit">Create the missing saved searches</button></form>' : '<p>Nothing to create.</p>';
        return (
            '<html><head><title>refund-sync setup</title></head><body><h1>refund-sync setup</h1>' +
            `<table border="1" cellpadding="4"><tr><th>Saved search</th><th>Id</th><th>State</th></tr>${rows}</table>${button}</body></html>`
        );
    }

    function onRequest(context) {
        const create = String(context.request.method).toUpperCase() === 'POST';
        context.response.write({ output: page(setUp(create)) });
    }

    return { onRequest };
});
