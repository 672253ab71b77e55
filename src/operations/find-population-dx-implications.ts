// $find-population-dx-implications — Genomics Reporting IG 3.0.0, OperationDefinition find-population-dx-implications:
// how many of the patients with genomic data have a ClinVar-based diagnostic implication for the variants and
// conditions asked, and which (includePatientList). Served at [base]/$find-population-dx-implications by GET or
// POST (Parameters); answered by src/genomics/dx-implications.ts.
import { populationDxImplications } from '../genomics/dx-implications.js';
import { genomicsOperation } from './genomics-operation.js';

/** The $find-population-dx-implications operation (system level). */
export const findPopulationDxImplicationsOperation = genomicsOperation('find-population-dx-implications', (_ctx, s, req) => populationDxImplications(s, req, 'find-population-dx-implications'));
