// `helix kb import clinvar <file.vcf[.gz]> [--build GRCh38|GRCh37]`: loads ClinVar's VCF into the
// knowledge base of the database the server uses — DATABASE_URL, or the embedded database in
// DATA_DIR, opened (and migrated) the way `helix user` opens it — replacing the release loaded
// for that build in one transaction, and prints how many variants it loaded.
import { access, constants } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import { parseArgs } from 'node:util';
import { configFromEnv } from '../config.js';
import { openDatabase } from '../db/open.js';
import { importClinvar } from '../genomics/clinvar.js';
import { parseBuild } from '../genomics/refseq.js';
import { VcfError } from '../genomics/vcf-source.js';

/** The usage text of `helix kb`. */
export const KB_USAGE = `Usage: helix kb import clinvar <clinvar.vcf[.gz]> [--build GRCh38|GRCh37]

  Loads ClinVar's VCF (https://ftp.ncbi.nlm.nih.gov/pub/clinvar/vcf_GRCh38/ or vcf_GRCh37/) into the
  database named by DATABASE_URL (else the embedded one in DATA_DIR), replacing the release loaded
  for its build. The build is the file's ##reference unless --build gives it.
`;

/** Runs `helix kb …`, printing the result through `print`; returns the exit code (0 loaded, 1 failed, 2 usage). */
export async function runKb(
  args: string[], env: NodeJS.ProcessEnv = process.env, print: (text: string) => void = (t) => void process.stdout.write(t),
): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args, allowPositionals: true, options: { build: { type: 'string' } } });
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${KB_USAGE}`);
    return 2;
  }
  const [sub, kind, file, ...extra] = parsed.positionals;
  const build = parsed.values.build === undefined ? undefined : parseBuild(parsed.values.build);
  if (sub !== 'import' || kind !== 'clinvar' || !file || extra.length || (parsed.values.build !== undefined && !build)) {
    process.stderr.write(KB_USAGE);
    return 2;
  }
  try {
    await access(file, constants.R_OK);
  } catch {
    process.stderr.write(`helix kb import: cannot read ${file}\n`);
    return 1;
  }
  const db = await openDatabase(configFromEnv(env, { logLevel: 'warn' }));
  try {
    // A whole ClinVar release takes minutes: say how far it is, on stderr, every half million.
    let reported = 0;
    const progress = (n: number): void => {
      if (n - reported < 500_000) return;
      reported = n;
      process.stderr.write(`  ${n.toLocaleString('en-US')} variants…\n`);
    };
    const summary = await importClinvar(db, createReadStream(file), { ...(build ? { build } : {}), progress });
    const release = summary.fileDate ? `, release of ${summary.fileDate}` : '';
    print(`Loaded ${summary.variants} ClinVar variants (${summary.build}${release}) from ${summary.dataLines} records` +
      `${summary.skipped ? `; ${summary.skipped} alleles skipped (other contigs, or not bases)` : ''}\n`);
    return 0;
  } catch (err) {
    if (!(err instanceof VcfError)) throw err;
    process.stderr.write(`helix kb import: ${file}: ${err.message}\n`);
    return 1;
  } finally {
    await db.close();
  }
}
