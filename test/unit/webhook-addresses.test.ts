import { WebhookSettings, readSettings } from '../../src/config';
import { WebhookTransport, endpointUrlProblem, isPublicUnicast } from '../../src/webhooks/webhook-transport';

const settings: WebhookSettings = { ...readSettings({}).webhooks, timeoutMs: 500, allowPrivateAddresses: false };
const REFUSED = 'url must not point to a loopback or private address';

describe('webhook endpoint addresses', () => {
  it.each([
    // public unicast
    ['8.8.8.8', true],
    ['1.1.1.1', true],
    ['2606:4700:4700::1111', true],
    ['2a00:1450:4001:80b::200e', true],
    ['::ffff:8.8.8.8', true],
    // IPv4 that is not public unicast
    ['0.0.0.0', false],
    ['10.1.2.3', false],
    ['100.64.0.1', false],
    ['127.0.0.1', false],
    ['127.255.255.254', false],
    ['169.254.169.254', false],
    ['172.16.0.1', false],
    ['172.31.255.255', false],
    ['192.168.1.1', false],
    ['192.0.0.8', false],
    ['192.0.2.1', false],
    ['198.18.0.1', false],
    ['198.19.255.254', false],
    ['198.51.100.7', false],
    ['203.0.113.9', false],
    ['224.0.0.1', false],
    ['239.255.255.250', false],
    ['240.0.0.1', false],
    ['255.255.255.255', false],
    // IPv6 that is not public unicast, including forms that carry an IPv4 address
    ['::', false],
    ['::1', false],
    ['fe80::1', false],
    ['fc00::1', false],
    ['fd12:3456::1', false],
    ['ff02::1', false],
    ['ff05::1:3', false],
    ['::ffff:127.0.0.1', false],
    ['::ffff:10.0.0.1', false],
    ['::ffff:0:a00:1', false],
    ['64:ff9b::7f00:1', false],
    ['64:ff9b::a00:1', false],
    ['64:ff9b::808:808', false],
    ['64:ff9b:1::a00:1', false],
    ['2002:c0a8:101::1', false],
    ['2002:7f00:1::1', false],
    ['2001:0:4136:e378:8000:63bf:3fff:fdd2', false],
    ['2001:db8::1', false],
    ['100::1', false],
    // not an address at all
    ['not-an-address', false],
  ])('%s is public unicast: %s', (address, expected) => {
    expect(isPublicUnicast(address)).toBe(expected);
  });

  it.each([
    ['https://hooks.example.com/compliance', null],
    ['https://8.8.8.8/hook', null],
    ['https://[2606:4700:4700::1111]/hook', null],
    ['https://127.0.0.1/hook', REFUSED],
    ['https://2130706433/hook', REFUSED],
    ['https://0x7f.1/hook', REFUSED],
    ['https://127.1/hook', REFUSED],
    ['https://[::1]/hook', REFUSED],
    ['https://[::ffff:127.0.0.1]/hook', REFUSED],
    ['https://[::ffff:a9fe:a9fe]/hook', REFUSED],
    ['https://[64:ff9b::a9fe:a9fe]/hook', REFUSED],
    ['https://[2002:a9fe:a9fe::1]/hook', REFUSED],
    ['https://198.18.0.1/hook', REFUSED],
    ['https://224.0.0.251/hook', REFUSED],
    ['https://[ff02::fb]/hook', REFUSED],
    ['https://localhost/hook', REFUSED],
    ['https://LOCALHOST./hook', REFUSED],
    ['https://api.localhost/hook', REFUSED],
    ['http://hooks.example.com/hook', 'url must use https'],
    ['https://user:secret@hooks.example.com/hook', 'url must not carry credentials'],
  ])('%s → %s', (url, problem) => {
    expect(endpointUrlProblem(url, settings)).toBe(problem);
  });

  it('checks a literal address again when it delivers, without connecting', async () => {
    const transport = new WebhookTransport(settings);
    for (const url of [
      'https://[::ffff:127.0.0.1]:1/hook',
      'https://[64:ff9b::7f00:1]:1/hook',
      'https://198.18.0.1:1/',
    ]) {
      expect(await transport.post(url, '{}', {})).toMatchObject({ statusCode: null, error: REFUSED });
    }
  });
});
