// The CPIC publications Helix's pharmacogenomic knowledge files cite, in one place so the phenotype
// and recommendation generators cite a guideline identically. Titles, years and PMIDs are as
// PubMed lists them (checked against the PharmGKB guideline exports and PubMed/PMC pages); the URLs
// are the guideline pages on cpicpgx.org (checked against cpicpgx/cpic-data's guideline table).

/** A publication a knowledge record rests on. */
export interface Citation {
  title: string;
  year: number;
  pmid: string;
  url: string;
}

const page = (slug: string): string => `https://cpicpgx.org/guidelines/${slug}/`;

/** CPIC guidelines and consensus papers, keyed by a short Helix name. */
export const CITATIONS = {
  clopidogrel2022: {
    title: 'Clinical Pharmacogenetics Implementation Consortium Guideline for CYP2C19 Genotype and Clopidogrel Therapy: 2022 Update',
    year: 2022, pmid: '35034351', url: page('guideline-for-clopidogrel-and-cyp2c19'),
  },
  nsaids2020: {
    title: 'Clinical Pharmacogenetics Implementation Consortium Guideline (CPIC) for CYP2C9 and Nonsteroidal Anti-Inflammatory Drugs',
    year: 2020, pmid: '32189324', url: page('cpic-guideline-for-nsaids-based-on-cyp2c9-genotype'),
  },
  warfarin2017: {
    title: 'Clinical Pharmacogenetics Implementation Consortium (CPIC) Guideline for Pharmacogenetics-Guided Warfarin Dosing: 2017 Update',
    year: 2017, pmid: '28198005', url: page('guideline-for-warfarin-and-cyp2c9-and-vkorc1'),
  },
  cyp2d6Standardization2020: {
    title: 'Standardizing CYP2D6 Genotype to Phenotype Translation: Consensus Recommendations from the Clinical Pharmacogenetics Implementation Consortium and Dutch Pharmacogenetics Working Group',
    year: 2020, pmid: '31647186', url: 'https://cpicpgx.org/resources/cyp2d6-genotype-to-phenotype-standardization-project/',
  },
  opioids2021: {
    title: 'Clinical Pharmacogenetics Implementation Consortium Guideline for CYP2D6, OPRM1, and COMT Genotypes and Select Opioid Therapy',
    year: 2021, pmid: '33387367', url: page('guideline-for-codeine-and-cyp2d6'),
  },
  tacrolimus2015: {
    title: 'Clinical Pharmacogenetics Implementation Consortium (CPIC) Guidelines for CYP3A5 Genotype and Tacrolimus Dosing',
    year: 2015, pmid: '25801146', url: page('guideline-for-tacrolimus-and-cyp3a5'),
  },
  statins2022: {
    title: 'The Clinical Pharmacogenetics Implementation Consortium Guideline for SLCO1B1, ABCG2, and CYP2C9 Genotypes and Statin-Associated Musculoskeletal Symptoms',
    year: 2022, pmid: '35152405', url: page('cpic-guideline-for-statins'),
  },
  thiopurines2018: {
    title: 'Clinical Pharmacogenetics Implementation Consortium Guideline for Thiopurine Dosing Based on TPMT and NUDT15 Genotypes: 2018 Update',
    year: 2019, pmid: '30447069', url: page('guideline-for-thiopurines-and-tpmt'),
  },
  // CPIC's guideline page announces this update and names the study behind it by PMID only; the
  // title here describes the update, the PMID and year are the study's.
  thiopurineImImUpdate2024: {
    title: 'CPIC thiopurine guideline update (March 2024): starting dose for patients intermediate for both TPMT and NUDT15, based on the study PMID 38230823',
    year: 2024, pmid: '38230823', url: page('guideline-for-thiopurines-and-tpmt'),
  },
  fluoropyrimidines2017: {
    title: 'Clinical Pharmacogenetics Implementation Consortium (CPIC) Guideline for Dihydropyrimidine Dehydrogenase Genotype and Fluoropyrimidine Dosing: 2017 Update',
    year: 2018, pmid: '29152729', url: page('guideline-for-fluoropyrimidines-and-dpyd'),
  },
  atazanavir2015: {
    title: 'Clinical Pharmacogenetics Implementation Consortium (CPIC) Guideline for UGT1A1 and Atazanavir Prescribing',
    year: 2016, pmid: '26417955', url: page('guideline-for-atazanavir-and-ugt1a1'),
  },
  iwpc2009: {
    title: 'Estimation of the Warfarin Dose with Clinical and Pharmacogenetic Data (International Warfarin Pharmacogenetics Consortium; Klein TE et al., N Engl J Med 360:753-764)',
    year: 2009, pmid: '19228618', url: 'https://doi.org/10.1056/NEJMoa0809329',
  },
} as const satisfies Record<string, Citation>;
