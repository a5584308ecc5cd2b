/** The region tree as the engine sees it: code → parent code. */
export class RegionDirectory {
  private readonly parentByCode: ReadonlyMap<string, string | null>;

  constructor(regions: Iterable<{ code: string; parentCode: string | null }>) {
    this.parentByCode = new Map([...regions].map((region) => [region.code, region.parentCode]));
  }

  /** The tree as it was given: to rebuild the same directory elsewhere (a worker thread). */
  entries(): { code: string; parentCode: string | null }[] {
    return [...this.parentByCode].map(([code, parentCode]) => ({ code, parentCode }));
  }

  has(code: string): boolean {
    return this.parentByCode.has(code);
  }

  /** The region and its ancestors, most specific first (UA-43, UA). */
  lineage(code: string): string[] {
    const chain: string[] = [];
    for (
      let current: string | null | undefined = code;
      current && chain.length < 8;
      current = this.parentByCode.get(current)
    ) {
      chain.push(current);
    }
    return chain;
  }

  /** True when one region is the other or contains it (UA and UA-43 agree; UA-43 and RU do not). */
  related(a: string, b: string): boolean {
    return this.lineage(a).includes(b) || this.lineage(b).includes(a);
  }
}
