/**
 * Mobile networks: which region a SIM's operator (MCC + MNC) belongs to. A SIM names the network
 * that issued it, not where the phone is (roaming), so it is weaker evidence than GPS.
 */
export interface MobileNetwork {
  mcc: string;
  mnc: string;
  regionCode: string;
  name: string;
}

export interface NetworkLookup {
  regionCode: string | null;
  finding: 'SIM_NETWORK' | 'SIM_SUBDIVISION_NETWORK' | 'SIM_COUNTRY' | 'SIM_AMBIGUOUS' | 'SIM_UNKNOWN';
  detail: string;
}

/** Answers remembered at most: the codes are the client's, so the memory is bounded (and starts again when full). */
const MAX_REMEMBERED = 10_000;

export class MobileNetworkTable {
  private readonly networkByCode = new Map<string, MobileNetwork>();
  private readonly countriesByMcc = new Map<string, Set<string>>();
  /**
   * Answers by MCC and MNC: a what-if replays millions of SIMs of a few hundred networks, and
   * writing the answer's detail each time was a tenth of reading the signals. Answers are frozen.
   */
  private readonly answers = new Map<string, NetworkLookup>();

  constructor(
    networks: Iterable<MobileNetwork>,
    private readonly isSubdivision: (regionCode: string) => boolean,
  ) {
    const all = [...networks];
    const networksPerCountry = new Map<string, number>();
    for (const network of all) {
      const key = `${network.mcc}|${network.regionCode}`;
      networksPerCountry.set(key, (networksPerCountry.get(key) ?? 0) + 1);
      if (!isSubdivision(network.regionCode)) {
        const countries = this.countriesByMcc.get(network.mcc) ?? new Set<string>();
        countries.add(network.regionCode);
        this.countriesByMcc.set(network.mcc, countries);
      }
    }
    // A few MCC-MNC pairs are listed for several territories (AT&T's 310-410 for the US and the US
    // Virgin Islands): the territory with the most networks under that MCC keeps the pair.
    const weight = (network: MobileNetwork) => networksPerCountry.get(`${network.mcc}|${network.regionCode}`) ?? 0;
    for (const network of all) {
      const code = `${network.mcc}-${network.mnc}`;
      const current = this.networkByCode.get(code);
      if (!current || weight(network) > weight(current)) this.networkByCode.set(code, network);
    }
  }

  lookup(mcc: string, mnc?: string | null): NetworkLookup {
    const key = `${mcc}|${mnc ?? ''}`;
    let answer = this.answers.get(key);
    if (!answer) {
      if (this.answers.size >= MAX_REMEMBERED) this.answers.clear();
      answer = Object.freeze(this.answer(mcc, mnc));
      this.answers.set(key, answer);
    }
    return answer;
  }

  private answer(mcc: string, mnc?: string | null): NetworkLookup {
    const network = mnc ? this.networkByCode.get(`${mcc}-${mnc}`) : undefined;
    if (network) {
      const subdivision = this.isSubdivision(network.regionCode);
      return {
        regionCode: network.regionCode,
        finding: subdivision ? 'SIM_SUBDIVISION_NETWORK' : 'SIM_NETWORK',
        detail: `${mcc}-${mnc} is ${network.name}, operating ${subdivision ? 'only in' : 'in'} ${network.regionCode}`,
      };
    }
    const countries = [...(this.countriesByMcc.get(mcc) ?? [])];
    if (countries.length === 1) {
      return { regionCode: countries[0], finding: 'SIM_COUNTRY', detail: `MCC ${mcc} belongs to ${countries[0]}` };
    }
    if (countries.length > 1) {
      return {
        regionCode: null,
        finding: 'SIM_AMBIGUOUS',
        detail: `MCC ${mcc} is shared by ${countries.sort().join(', ')} and the MNC does not tell them apart`,
      };
    }
    return { regionCode: null, finding: 'SIM_UNKNOWN', detail: `MCC ${mcc} belongs to no known country` };
  }
}
