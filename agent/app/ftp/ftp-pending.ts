/**
 * Commands waiting for a reply, and Zeek's way of choosing which one a reply answers
 * (base/protocols/ftp/utils-commands.zeek get_pending_cmd): +100 when the code is one the
 * command may get (or 500), +20 when the reply mentions the command, +10 when it mentions the
 * argument (an empty argument always "appears"); ties go to the oldest command.
 */
export interface CmdArg {
  ts: number
  cmd: string
  arg: string
  seq: number
  cwdConsumed: boolean
}

const CODES: Record<string, number[]> = {
  '<init>': [120, 220, 421, 0],
  USER: [230, 331, 332, 421, 530, 500, 501],
  PASS: [230, 202, 332, 421, 530, 500, 501, 503],
  ACCT: [230, 202, 421, 530, 500, 501, 503],
  CWD: [250, 421, 500, 501, 502, 530, 550],
  CDUP: [200, 250, 421, 500, 501, 502, 530, 550],
  SMNT: [202, 250, 421, 500, 501, 502, 530, 550],
  REIN: [120, 220, 421, 500, 502],
  QUIT: [221, 500, 0],
  PORT: [200, 421, 500, 501, 530],
  PASV: [227, 421, 500, 501, 502, 530],
  MODE: [200, 421, 500, 501, 502, 504, 530],
  TYPE: [200, 421, 500, 501, 504, 530],
  STRU: [200, 421, 500, 501, 504, 530],
  ALLO: [200, 202, 421, 500, 501, 504, 530],
  REST: [200, 350, 421, 500, 501, 502, 530],
  STOR: [110, 125, 150, 226, 250, 421, 425, 426, 451, 551, 552, 532, 450, 452, 553, 500, 501, 530, 550],
  STOU: [110, 125, 150, 226, 250, 421, 425, 426, 451, 551, 552, 532, 450, 452, 553, 500, 501, 530, 550],
  RETR: [110, 125, 150, 226, 250, 421, 425, 426, 451, 450, 500, 501, 530, 550],
  LIST: [125, 150, 226, 250, 421, 425, 426, 451, 450, 500, 501, 502, 530, 550],
  NLST: [125, 150, 226, 250, 421, 425, 426, 451, 450, 500, 501, 502, 530, 550],
  APPE: [125, 150, 226, 250, 421, 425, 426, 451, 551, 552, 532, 450, 550, 452, 553, 500, 501, 502, 530],
  RNFR: [350, 421, 450, 550, 500, 501, 502, 530],
  RNTO: [250, 421, 532, 553, 500, 501, 502, 503, 530],
  DELE: [250, 421, 450, 550, 500, 501, 502, 530],
  RMD: [250, 421, 500, 501, 502, 530, 550],
  MKD: [257, 421, 500, 501, 502, 530, 550],
  PWD: [257, 421, 500, 501, 502, 550],
  ABOR: [225, 226, 421, 500, 501, 502],
  SYST: [215, 421, 500, 501, 502, 530],
  STAT: [211, 212, 213, 421, 450, 500, 501, 502, 530],
  HELP: [200, 211, 214, 421, 500, 501, 502],
  SITE: [200, 202, 214, 500, 501, 502, 530],
  NOOP: [200, 421, 500],
  LPRT: [500, 501, 521],
  FEAT: [211, 500, 502],
  OPTS: [200, 451, 501],
  EPSV: [229, 500, 501],
  EPRT: [200, 500, 501, 522],
  SIZE: [213, 500, 501, 550],
  MDTM: [213, 500, 501, 550],
  MLST: [150, 226, 250, 500, 501, 550],
  MLSD: [150, 226, 250, 500, 501, 550],
  CLNT: [200, 500],
  MACB: [200, 500, 550],
  '<missing>': [0],
}

function expects(cmd: string, code: number): boolean {
  return Object.prototype.hasOwnProperty.call(CODES, cmd) && CODES[cmd]!.includes(code)
}

/** Best pending command for a reply; undefined when nothing is pending. */
export function bestPendingCmd(pending: ReadonlyMap<number, CmdArg>, code: number, msg: string): CmdArg | undefined {
  let best: CmdArg | undefined
  let bestScore = -1
  for (const c of pending.values()) {
    let score = 0
    if (code === 500 || expects(c.cmd, code)) score += 100
    if (msg.includes(c.cmd)) score += 20
    if (msg.includes(c.arg)) score += 10
    if (score > bestScore || (score === bestScore && best !== undefined && best.seq > c.seq)) {
      bestScore = score
      best = c
    }
  }
  return best
}
