/**
 * refund-sync: SDF installation script, run by `suitecloud project:deploy` after the objects are
 * deployed (see src/deploy.xml). Creates the sample saved search customsearch_rs_refunds when the
 * account does not have it yet; an existing search is left alone, so an admin's edits survive
 * every later deploy. SDF savedsearch XML is an opaque NetSuite-generated blob, hence a script.
 *
 * @NApiVersion 2.1
 * @NScriptType SDFInstallationScript
 * @NModuleScope SameAccount
 */
define(['N/search', 'N/log', 'N/error', './rs_refund_export_lib'], (search, log, error, lib) => {
    'use strict';

    function savedSearchExists(id) {
        try {
            search.load({ id });
            return true;
        } catch (thrown) {
            return false;
        }
    }

    function createSampleSearch(definition) {
        const columns = definition.columns.map((column) =>
            search.createColumn(column.sort ? { name: column.name, sort: search.Sort[column.sort] } : { name: column.name })
        );
        const created = search.create({
            type: definition.type,
            id: definition.id,
            title: definition.title,
            filters: definition.filters,
            columns,
        });
        // The RESTlet runs as the integration role, which can only load a search it can see.
        created.isPublic = true;
        return created.save();
    }

    function run(context) {
        const definition = lib.sampleSavedSearchDefinition();
        if (savedSearchExists(definition.id)) {
            log.audit({ title: 'refund-sync install', details: `Saved search ${definition.id} exists; left unchanged.` });
            return;
        }
        try {
            const internalId = createSampleSearch(definition);
            log.audit({
                title: 'refund-sync install',
                details: `Created saved search ${definition.id} (internal id ${internalId}) while installing ${context && context.toVersion ? context.toVersion : 'refund-sync'}.`,
            });
        } catch (thrown) {
            // Stop the deployment with the reason rather than leave the RESTlet without its search.
            throw error.create({
                name: 'RS_INSTALL_SAVED_SEARCH_FAILED',
                message: `Could not create saved search ${definition.id}: ${thrown.name}: ${thrown.message}. ` +
                    `Check that the field ${lib.EXCLUDE_FIELD} was deployed, or create the search by hand as described in netsuite/README.md.`,
                notifyOff: false,
            });
        }
    }

    return { run };
});
