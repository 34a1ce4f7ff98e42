/**
 * The generated JSON Schema (netsuite/contract/restlet-contract.v1.json) is the single source of
 * truth shared with the Python client: every message the tests see is validated against it.
 */
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import schema from '../../contract/restlet-contract.v1.json';

const ajv = new Ajv2020({ allErrors: true, strict: true });
addFormats(ajv);
ajv.addSchema(schema);

export function contractValidator(definition) {
    const validate = ajv.getSchema(`${schema.$id}#/$defs/${definition}`);
    if (!validate) throw new Error(`The contract has no definition ${definition}`);
    return validate;
}

export function contractErrors(definition, message) {
    const validate = contractValidator(definition);
    return validate(message) ? [] : validate.errors.map((entry) => `${entry.instancePath || '/'} ${entry.message}`);
}

export function expectContract(definition, message) {
    const errors = contractErrors(definition, message);
    if (errors.length) {
        throw new Error(`${definition} violates the contract:\n  ${errors.join('\n  ')}\n${JSON.stringify(message, null, 2)}`);
    }
    return message;
}
