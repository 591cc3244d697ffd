/**
 * Published MAP numbers of the standard cross-modal hashing baselines, as typed data for the
 * comparison tables of the reproduction reports, with their sources (docs/published.md lists
 * them for readers): MAP@all by Hamming ranking, I->T and T->I, at 16 / 32 / 64 bits. No
 * published CPAH or DFAH table is available to this project, so these rows are the usual
 * baselines, never the two methods themselves. The reproduction tests
 * (tests/reproduction/) read the published values from here, the one place the report reads
 * them from.
 *
 * @module
 */

/** The benchmarks with published rows. */
export type Benchmark = "MIRFlickr-25K" | "NUS-WIDE" | "MS-COCO" | "IAPR TC-12" | "Wikipedia";

/** Code lengths of the published rows, in the order of {@link PublishedRow} arrays. */
export const PUBLISHED_BITS: readonly [16, 32, 64] = [16, 32, 64];

/** Where a set of published rows comes from. */
export interface PublishedSource {
  /** Short id, e.g. "ssah-t2". */
  id: string;
  /** Paper, e.g. "SSAH (Li et al., CVPR 2018)". */
  paper: string;
  /** Table in the paper, e.g. "Table 2". */
  table: string;
  /** Image side the published numbers were obtained with. */
  imageFeatures: string;
  /** Split convention of the paper (docs/methods.md, protocol); sizes are the standard ones. */
  protocol: string;
  /** Decimals the paper prints (3 or 4): numbers are shown with exactly these. */
  decimals: number;
}

/** One published row: a method on one benchmark. */
export interface PublishedRow {
  source: PublishedSource;
  benchmark: Benchmark;
  method: string;
  /** MAP@all image->text at 16, 32, 64 bits. */
  i2t: readonly [number, number, number];
  /** MAP@all text->image at 16, 32, 64 bits. */
  t2i: readonly [number, number, number];
}

/** SSAH (CVPR 2018), Table 2: baselines on CNN-F features. */
export const SSAH_TABLE2: PublishedSource = {
  id: "ssah-t2",
  paper: "SSAH (Li et al., CVPR 2018)",
  table: "Table 2",
  imageFeatures: "CNN-F (ImageNet) features",
  protocol: "split: fresh random permutation",
  decimals: 3,
};

/** AGAH (ICMR 2019), Table 1. */
export const AGAH_TABLE1: PublishedSource = {
  id: "agah-t1",
  paper: "AGAH (Gu et al., ICMR 2019)",
  table: "Table 1",
  imageFeatures: "CNN-F (ImageNet): features or raw images + CNN-F (which one: not recorded)",
  protocol: "split: query = first 2,000 rows",
  decimals: 4,
};

/** DCMH (CVPR 2017), its own results table. */
export const DCMH_OWN: PublishedSource = {
  id: "dcmh-own",
  paper: "DCMH (Jiang & Li, CVPR 2017)",
  table: "own results table (MIRFlickr / IAPR TC-12 / NUS-WIDE)",
  imageFeatures: "CNN-F (ImageNet): features or raw images + CNN-F (which one: not recorded)",
  protocol: "split: query = first 2,000 rows",
  decimals: 4,
};

/**
 * Wikipedia rows of SCM-Seq and CMFH as commonly reported for the methods' released codes on
 * the standard split; the paper table they first appeared in is not identified here
 * (docs/published.md).
 */
export const WIKIPEDIA_BASELINES: PublishedSource = {
  id: "wiki-baselines",
  paper: "SCM-Seq (Zhang & Li, AAAI 2014) and CMFH (Ding, Guo & Zhou, CVPR 2014), released codes",
  table: "values as commonly reported; originating table not identified (docs/published.md)",
  imageFeatures: "128-d SIFT bag of visual words (wikiData.mat)",
  protocol: "split: fixed (query = 693 test pairs, database = 2,173 training pairs)",
  decimals: 4,
};

/** All sources. */
export const PUBLISHED_SOURCES: readonly PublishedSource[] = [
  SSAH_TABLE2,
  AGAH_TABLE1,
  DCMH_OWN,
  WIKIPEDIA_BASELINES,
];

type T3 = readonly [number, number, number];

function rows(
  source: PublishedSource,
  benchmarks: readonly Benchmark[],
  table: Record<string, readonly T3[]>,
): PublishedRow[] {
  const out: PublishedRow[] = [];
  for (const [method, cols] of Object.entries(table)) {
    benchmarks.forEach((benchmark, b) => {
      out.push({ source, benchmark, method, i2t: cols[2 * b], t2i: cols[2 * b + 1] });
    });
  }
  return out;
}

/** Every published row (reported-tables.md, transcribed column by column). */
export const PUBLISHED_ROWS: readonly PublishedRow[] = [
  // columns: MIR I->T, MIR T->I, NUS I->T, NUS T->I, COCO I->T, COCO T->I
  ...rows(SSAH_TABLE2, ["MIRFlickr-25K", "NUS-WIDE", "MS-COCO"], {
    CVH: [
      [.557, .554, .554],
      [.557, .554, .554],
      [.400, .392, .386],
      [.372, .366, .363],
      [.412, .401, .400],
      [.367, .359, .357],
    ],
    STMH: [
      [.602, .608, .605],
      [.600, .606, .608],
      [.522, .529, .537],
      [.496, .529, .532],
      [.422, .459, .475],
      [.431, .461, .476],
    ],
    CMSSH: [
      [.585, .584, .572],
      [.567, .569, .561],
      [.511, .506, .493],
      [.449, .389, .380],
      [.512, .495, .482],
      [.429, .408, .398],
    ],
    SCM: [
      [.671, .682, .685],
      [.697, .707, .713],
      [.533, .548, .557],
      [.463, .462, .471],
      [.483, .528, .550],
      [.465, .521, .548],
    ],
    SePH: [
      [.657, .660, .661],
      [.648, .652, .654],
      [.478, .487, .489],
      [.449, .454, .458],
      [.463, .487, .501],
      [.449, .474, .499],
    ],
    DCMH: [
      [.735, .737, .750],
      [.763, .764, .775],
      [.478, .486, .488],
      [.638, .651, .657],
      [.511, .513, .527],
      [.501, .503, .505],
    ],
    SSAH: [
      [.782, .790, .800],
      [.791, .795, .803],
      [.642, .636, .639],
      [.669, .662, .666],
      [.550, .558, .557],
      [.537, .538, .529],
    ],
  }),
  // columns: MIR I->T, MIR T->I, NUS I->T, NUS T->I
  ...rows(AGAH_TABLE1, ["MIRFlickr-25K", "NUS-WIDE"], {
    DCMH: [
      [.7201, .7287, .7418],
      [.7533, .7593, .7730],
      [.5657, .6007, .6001],
      [.5336, .5871, .5916],
    ],
    PRDH: [
      [.7221, .7395, .7550],
      [.7548, .7638, .7772],
      [.5929, .6333, .6243],
      [.5939, .6098, .6006],
    ],
    CHN: [
      [.7632, .7776, .7892],
      [.7636, .7807, .7906],
      [.6028, .6080, .6422],
      [.6085, .6263, .6112],
    ],
    SSAH: [
      [.7709, .7840, .7924],
      [.7681, .7737, .7838],
      [.6020, .6219, .6463],
      [.6123, .6369, .6398],
    ],
    AGAH: [
      [.7923, .7945, .8069],
      [.7887, .7904, .8049],
      [.6455, .6600, .6512],
      [.6313, .6422, .6336],
    ],
  }),
  // columns: MIR I->T, MIR T->I, IAPR I->T, IAPR T->I, NUS I->T, NUS T->I
  ...rows(DCMH_OWN, ["MIRFlickr-25K", "IAPR TC-12", "NUS-WIDE"], {
    DCMH: [
      [.7410, .7465, .7485],
      [.7827, .7900, .7932],
      [.4526, .4732, .4844],
      [.5185, .5378, .5468],
      [.5903, .6031, .6093],
      [.6389, .6511, .6571],
    ],
  }),
  // Wikipedia: I->T and T->I at 16 / 32 / 64 bits
  ...rows(WIKIPEDIA_BASELINES, ["Wikipedia"], {
    "SCM-Seq": [[.2341, .2410, .2445], [.2257, .2459, .2482]],
    CMFH: [[.2132, .2259, .2362], [.4884, .5132, .5269]],
  }),
];

/** The benchmark a dataset name of this toolkit corresponds to (undefined: none published). */
export function benchmarkOf(dataset: string): Benchmark | undefined {
  switch (dataset) {
    case "mirflickr25k":
    case "mirflickr25k-simimg":
      return "MIRFlickr-25K";
    case "nuswide":
      return "NUS-WIDE";
    case "mscoco":
      return "MS-COCO";
    case "iapr":
      return "IAPR TC-12";
    case "wikipedia":
      return "Wikipedia";
    default:
      return undefined;
  }
}

/** Published rows of one benchmark, in source order. */
export function publishedRowsFor(benchmark: Benchmark): PublishedRow[] {
  return PUBLISHED_ROWS.filter((r) => r.benchmark === benchmark);
}
