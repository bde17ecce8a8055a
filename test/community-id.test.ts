import t from 'tap'
import ipaddr from 'ipaddr.js'
import { communityIdV1 } from '../agent/flow/community-id.js'

const ip = (s: string): Uint8Array => Uint8Array.from(ipaddr.parse(s).toByteArray())

interface Vector { proto: number; saddr: string; daddr: string; sport: number | null; dport: number | null; communityid: string }

// corelight/community-id-spec baseline/baseline_deflt.json (seed 0). For ICMP rows the
// baseline lists the mapped "ports": type and counterpart (two-way) or type and code (one-way);
// for two-way types the code is ignored, so passing the listed value as "code" is exact.
const DEFAULT_SEED: Vector[] = [
  { proto: 58, saddr: 'fe80::200:86ff:fe05:80da', daddr: 'fe80::260:97ff:fe07:69ea', sport: 135, dport: 136, communityid: '1:dGHyGvjMfljg6Bppwm3bg0LO8TY=' },
  { proto: 58, saddr: 'fe80::260:97ff:fe07:69ea', daddr: 'fe80::200:86ff:fe05:80da', sport: 136, dport: 135, communityid: '1:dGHyGvjMfljg6Bppwm3bg0LO8TY=' },
  { proto: 58, saddr: 'fe80::260:97ff:fe07:69ea', daddr: 'fe80::200:86ff:fe05:80da', sport: 135, dport: 136, communityid: '1:zavyT/cezQr1fmImYCwYnMXbgck=' },
  { proto: 58, saddr: 'fe80::200:86ff:fe05:80da', daddr: 'fe80::260:97ff:fe07:69ea', sport: 136, dport: 135, communityid: '1:zavyT/cezQr1fmImYCwYnMXbgck=' },
  { proto: 58, saddr: '3ffe:501:1800:2345::2', daddr: '3ffe:507:0:1:200:86ff:fe05:80da', sport: 3, dport: 0, communityid: '1:2ObVBgIn28oZvibYZhZMBgh7WdQ=' },
  { proto: 58, saddr: '3ffe:501:410:0:2c0:dfff:fe47:33e', daddr: '3ffe:507:0:1:200:86ff:fe05:80da', sport: 1, dport: 4, communityid: '1:hLZd0XGWojozrvxqE0dWB1iM6R0=' },
  { proto: 58, saddr: '3ffe:507:0:1:200:86ff:fe05:80da', daddr: '3ffe:501:0:1001::2', sport: 128, dport: 129, communityid: '1:+TW+HtLHvV1xnGhV1lv7XoJrqQg=' },
  { proto: 58, saddr: '3ffe:501:0:1001::2', daddr: '3ffe:507:0:1:200:86ff:fe05:80da', sport: 129, dport: 128, communityid: '1:+TW+HtLHvV1xnGhV1lv7XoJrqQg=' },
  { proto: 58, saddr: 'fe80::200:86ff:fe05:80da', daddr: 'ff02::2', sport: 133, dport: 134, communityid: '1:hO+sN4H+MG5MY/8hIrXPqc4ZQz0=' },
  { proto: 58, saddr: 'fe80::260:97ff:fe07:69ea', daddr: 'ff02::1', sport: 134, dport: 133, communityid: '1:pkvHqCL88/tg1k4cPigmZXUtL00=' },
  { proto: 1, saddr: '192.168.0.89', daddr: '192.168.0.1', sport: 8, dport: 0, communityid: '1:X0snYXpgwiv9TZtqg64sgzUn6Dk=' },
  { proto: 1, saddr: '192.168.0.1', daddr: '192.168.0.89', sport: 0, dport: 8, communityid: '1:X0snYXpgwiv9TZtqg64sgzUn6Dk=' },
  { proto: 1, saddr: '10.0.0.1', daddr: '10.0.0.2', sport: 11, dport: 0, communityid: '1:YHxtAirCG//0OzkcVAukqKQN9xM=' },
  { proto: 6, saddr: '2001:470:e5bf:dead:4957:2174:e82c:4887', daddr: '2607:f8b0:400c:c03::1a', sport: 63943, dport: 25, communityid: '1:/qFaeAR+gFe1KYjMzVDsMv+wgU4=' },
  { proto: 6, saddr: '2607:f8b0:400c:c03::1a', daddr: '2001:470:e5bf:dead:4957:2174:e82c:4887', sport: 25, dport: 63943, communityid: '1:/qFaeAR+gFe1KYjMzVDsMv+wgU4=' },
  { proto: 132, saddr: '192.168.170.8', daddr: '192.168.170.56', sport: 7, dport: 7, communityid: '1:MP2EtRCAUIZvTw6MxJHLV7N7JDs=' },
  { proto: 132, saddr: '192.168.170.56', daddr: '192.168.170.8', sport: 7, dport: 7, communityid: '1:MP2EtRCAUIZvTw6MxJHLV7N7JDs=' },
  { proto: 6, saddr: '128.232.110.120', daddr: '66.35.250.204', sport: 34855, dport: 80, communityid: '1:LQU9qZlK+B5F3KDmev6m5PMibrg=' },
  { proto: 6, saddr: '66.35.250.204', daddr: '128.232.110.120', sport: 80, dport: 34855, communityid: '1:LQU9qZlK+B5F3KDmev6m5PMibrg=' },
  { proto: 17, saddr: '192.168.1.52', daddr: '8.8.8.8', sport: 54585, dport: 53, communityid: '1:d/FP5EW3wiY1vCndhwleRRKHowQ=' },
  { proto: 17, saddr: '8.8.8.8', daddr: '192.168.1.52', sport: 53, dport: 54585, communityid: '1:d/FP5EW3wiY1vCndhwleRRKHowQ=' },
  { proto: 46, saddr: '10.1.12.1', daddr: '10.1.12.2', sport: null, dport: null, communityid: '1:KHlLkgoJW7ifUTyTSgyVfkFHzKw=' },
  { proto: 46, saddr: '10.1.12.2', daddr: '10.1.12.1', sport: null, dport: null, communityid: '1:KHlLkgoJW7ifUTyTSgyVfkFHzKw=' },
]

// baseline/baseline_seed1.json: the same flows hashed with seed 1.
const SEED1: string[] = [
  '1:kHa1FhMYIT6Ym2Vm2AOtoOARDzY=', '1:kHa1FhMYIT6Ym2Vm2AOtoOARDzY=', '1:2hSqmsDZ2kdcY9kbiUzOEBic0iM=', '1:2hSqmsDZ2kdcY9kbiUzOEBic0iM=',
  '1:lVEtCZpYu84Xqaa++3lXFyuu2n4=', '1:W8MHwXpWzpoSTD+cGcaJr4u0ys8=', '1:GfZxjAkDk2MkegpBYHV6tadtFXQ=', '1:GfZxjAkDk2MkegpBYHV6tadtFXQ=',
  '1:L7Ka0ZMYu+J3bL4ulW2PrqyXNo8=', '1:K/ee5UCqAMAQXDorP5nSa2CGLjc=', '1:03g6IloqVBdcZlPyX8r0hgoE7kA=', '1:03g6IloqVBdcZlPyX8r0hgoE7kA=',
  '1:XjUibYHaafLQ3pxQeiMI8g25q20=', '1:eJYTW6AOzFLlSUoESovMjnu7rMw=', '1:eJYTW6AOzFLlSUoESovMjnu7rMw=', '1:5w3ZRjeKBzqT3zsaEECDGjUbYeg=',
  '1:5w3ZRjeKBzqT3zsaEECDGjUbYeg=', '1:3V71V58M3Ksw/yuFALMcW0LAHvc=', '1:3V71V58M3Ksw/yuFALMcW0LAHvc=', '1:Q9We8WO3piVF8yEQBNJF4uiSVrI=',
  '1:Q9We8WO3piVF8yEQBNJF4uiSVrI=', '1:rYir8gphR31noO9iDRQmF/BteEI=', '1:rYir8gphR31noO9iDRQmF/BteEI=',
]

t.test('spec baseline vectors, seed 0', async (t) => {
  for (const v of DEFAULT_SEED) {
    t.equal(communityIdV1(v.proto, ip(v.saddr), ip(v.daddr), v.sport ?? 0, v.dport ?? 0), v.communityid, `${v.proto} ${v.saddr}:${v.sport} > ${v.daddr}:${v.dport}`)
  }
})

t.test('spec baseline vectors, seed 1', async (t) => {
  t.equal(SEED1.length, DEFAULT_SEED.length)
  DEFAULT_SEED.forEach((v, i) => {
    t.equal(communityIdV1(v.proto, ip(v.saddr), ip(v.daddr), v.sport ?? 0, v.dport ?? 0, 1), SEED1[i], `${v.proto} ${v.saddr} > ${v.daddr}`)
  })
})

// corelight/pycommunityid tests/communityid_test.py (seed 0 and seed 1 columns).
t.test('pycommunityid ICMP vectors: one-way types keep the code and their direction', async (t) => {
  const cases: [string, string, number, number, string, string][] = [
    ['192.168.0.89', '192.168.0.1', 8, 0, '1:X0snYXpgwiv9TZtqg64sgzUn6Dk=', '1:03g6IloqVBdcZlPyX8r0hgoE7kA='],
    ['192.168.0.1', '192.168.0.89', 0, 8, '1:X0snYXpgwiv9TZtqg64sgzUn6Dk=', '1:03g6IloqVBdcZlPyX8r0hgoE7kA='],
    ['192.168.0.89', '192.168.0.1', 20, 0, '1:3o2RFccXzUgjl7zDpqmY7yJi8rI=', '1:lCXHHxavE1Vq3oX9NH5ladQg02o='],
    ['192.168.0.89', '192.168.0.1', 20, 1, '1:tz/fHIDUHs19NkixVVoOZywde+I=', '1:Ie3wmFyxiEyikbsbcO03d2nh+PM='],
    ['192.168.0.1', '192.168.0.89', 0, 20, '1:X0snYXpgwiv9TZtqg64sgzUn6Dk=', '1:03g6IloqVBdcZlPyX8r0hgoE7kA='],
  ]
  for (const [s, d, ty, co, id0, id1] of cases) {
    t.equal(communityIdV1(1, ip(s), ip(d), ty, co), id0, `${s} > ${d} type ${ty} code ${co}`)
    t.equal(communityIdV1(1, ip(s), ip(d), ty, co, 1), id1, `${s} > ${d} type ${ty} code ${co} seed 1`)
  }
  const v6: [string, string, number, number, string, string][] = [
    ['fe80::200:86ff:fe05:80da', 'fe80::260:97ff:fe07:69ea', 135, 0, '1:dGHyGvjMfljg6Bppwm3bg0LO8TY=', '1:kHa1FhMYIT6Ym2Vm2AOtoOARDzY='],
    ['fe80::260:97ff:fe07:69ea', 'fe80::200:86ff:fe05:80da', 136, 0, '1:dGHyGvjMfljg6Bppwm3bg0LO8TY=', '1:kHa1FhMYIT6Ym2Vm2AOtoOARDzY='],
    ['3ffe:507:0:1:260:97ff:fe07:69ea', '3ffe:507:0:1:200:86ff:fe05:80da', 3, 0, '1:NdobDX8PQNJbAyfkWxhtL2Pqp5w=', '1:OlOWx9psIbBFi7lOCw/4MhlKR9M='],
    ['3ffe:507:0:1:200:86ff:fe05:80da', '3ffe:507:0:1:260:97ff:fe07:69ea', 3, 0, '1:/OGBt9BN1ofenrmSPWYicpij2Vc=', '1:Ij4ZxnC87/MXzhOjvH2vHu7LRmE='],
  ]
  for (const [s, d, ty, co, id0, id1] of v6) {
    t.equal(communityIdV1(58, ip(s), ip(d), ty, co), id0, `${s} > ${d} type ${ty}`)
    t.equal(communityIdV1(58, ip(s), ip(d), ty, co, 1), id1, `${s} > ${d} type ${ty} seed 1`)
  }
})

t.test('pycommunityid TCP/SCTP/IP vectors', async (t) => {
  t.equal(communityIdV1(6, ip('10.0.0.1'), ip('10.0.0.2'), 10, 11569), '1:SXBGMX1lBOwhhoDrZynfROxnhnM=')
  t.equal(communityIdV1(6, ip('10.0.0.1'), ip('10.0.0.2'), 10, 11569, 1), '1:HmBRGR+fUyXF4t8WEtal7Y0gEAo=')
  t.equal(communityIdV1(132, ip('192.168.170.8'), ip('192.168.170.56'), 7, 80), '1:jQgCxbku+pNGw8WPbEc/TS/uTpQ=')
  t.equal(communityIdV1(132, ip('192.168.170.56'), ip('192.168.170.8'), 80, 7), '1:jQgCxbku+pNGw8WPbEc/TS/uTpQ=')
  t.equal(communityIdV1(46, ip('10.1.24.4'), ip('10.1.12.1'), 0, 0), '1:/nQI4Rh/TtY3mf0R2gJFBkVlgS4=')
  t.equal(communityIdV1(46, ip('10.1.12.1'), ip('10.1.24.4'), 0, 0, 1), '1:BK3BVW3U2eemuwVQVN3zd/GULno=')
})

t.test('address views inside a larger buffer give the same id', async (t) => {
  const pkt = Buffer.alloc(40)
  pkt.set(ip('128.232.110.120'), 12)
  pkt.set(ip('66.35.250.204'), 16)
  t.equal(communityIdV1(6, pkt.subarray(12, 16), pkt.subarray(16, 20), 34855, 80), '1:LQU9qZlK+B5F3KDmev6m5PMibrg=')
})

t.test('same address on both sides: ports decide the order', async (t) => {
  const a = ip('127.0.0.1')
  t.equal(communityIdV1(17, a, a, 1000, 53), communityIdV1(17, a, a, 53, 1000))
})
