"""The SIPp scenarios of the voice benchmarks, written into each run's folder by `voice.py`.

They are generated rather than kept as XML files because some take the run's figures (how long a call holds,
which port the agents' phone answers on) and SIPp has no loop counter to take them from the command line.
"""

from __future__ import annotations

import math

PCAP_SECONDS = 7.1  # SIPp's g711a.pcap lasts 7.05 s: one play is restarted after this long
HEADER = '<?xml version="1.0" encoding="ISO-8859-1" ?>\n<!DOCTYPE scenario SYSTEM "sipp.dtd">\n'

INVITE = """
  <send retrans="500">
    <![CDATA[

      INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: "Caller [call_number]" <sip:555[call_number]@[local_ip]:[local_port]>;tag=[pid]SIPpTag09[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 INVITE
      Contact: sip:555[call_number]@[local_ip]:[local_port]
      Max-Forwards: 70
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=caller 53655765 2353687637 IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 8 101
      a=rtpmap:8 PCMA/8000
      a=rtpmap:101 telephone-event/8000
      a=fmtp:101 0-11,16

    ]]>
  </send>
"""

ACK = """
  <send>
    <![CDATA[

      ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: "Caller [call_number]" <sip:555[call_number]@[local_ip]:[local_port]>;tag=[pid]SIPpTag09[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Contact: sip:555[call_number]@[local_ip]:[local_port]
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
"""

BYE = """
  <send retrans="500">
    <![CDATA[

      BYE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: "Caller [call_number]" <sip:555[call_number]@[local_ip]:[local_port]>;tag=[pid]SIPpTag09[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 2 BYE
      Contact: sip:555[call_number]@[local_ip]:[local_port]
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>

  <recv response="200" crlf="true" />
"""

OK_TO_BYE = """
  <recv request="BYE" />

  <send>
    <![CDATA[

      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

    ]]>
  </send>
"""

ANSWERED = """
  <recv response="100" optional="true" />
  <recv response="180" optional="true" />
  <recv response="200" rtd="true" crlf="true" />
"""


def _scenario(name: str, body: str) -> str:
    return f'{HEADER}<scenario name="{name}">\n{body}\n</scenario>\n'


def _play(pcap: str) -> str:
    return f'\n  <nop>\n    <action>\n      <exec play_pcap_audio="{pcap}" />\n    </action>\n  </nop>\n'


def answer_play_caller() -> str:
    """Benchmark 1: a caller that is answered, hears the prompt (sends no audio) and takes the node's BYE."""
    return _scenario("Caller hears a prompt and is hung up on", INVITE + ANSWERED + ACK + OK_TO_BYE)


def hold_caller(hold_seconds: float, pcap: str) -> str:
    """Benchmark 2: a caller that streams G.711 (SIPp's pcap, replayed back to back) for `hold_seconds` after
    the answer, then hangs up."""
    plays = max(1, math.ceil(hold_seconds / PCAP_SECONDS))
    steps = []
    left = hold_seconds
    for _ in range(plays):
        pause = min(PCAP_SECONDS, left)
        steps.append(_play(pcap) + f'  <pause milliseconds="{round(pause * 1000)}" />\n')
        left -= pause
    return _scenario("Caller holds with audio both ways", INVITE + ANSWERED + ACK + "".join(steps) + BYE)


def center_caller(*, refusable: bool = False) -> str:
    """Benchmarks 3 and 4: a caller that hears the menu for a second, presses a digit (RFC 4733, `-key dtmf`),
    streams G.711 (`-key pcap`, replayed until the node's BYE comes) and answers the node's BYE. `refusable`
    also takes a 503 (the node is past sip_max_calls) as the end of a good call."""
    refused = ""
    if refusable:
        refused = '  <recv response="503" optional="true" next="refused" />\n'
    answered = ANSWERED.replace('  <recv response="200"', refused + '  <recv response="200"')
    talk = f"""
  <pause milliseconds="1000" />
{_play("[dtmf]")}
  <pause milliseconds="1500" />
  <label id="audio" />
{_play("[pcap]")}
  <recv request="BYE" timeout="{round(PCAP_SECONDS * 1000)}" ontimeout="audio" />

  <send next="done">
    <![CDATA[

      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

    ]]>
  </send>
"""
    tail = """
  <label id="refused" />
  <send>
    <![CDATA[

      ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch-3]
      From: "Caller [call_number]" <sip:555[call_number]@[local_ip]:[local_port]>;tag=[pid]SIPpTag09[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
  <label id="done" />
"""
    if not refusable:
        talk = talk.replace('<send next="done">', "<send>")
        tail = ""
    return _scenario("Caller through the menu to an agent", INVITE + answered + ACK + talk + tail)


def agent_phone(talk_seconds: float, pcap: str) -> str:
    """Benchmark 3: the phones of every agent (one SIPp UAS that all their registrations point at): rings,
    answers, streams G.711 back to back and hangs up after `talk_seconds`."""
    steps = []
    left = talk_seconds
    while left > 0:
        pause = min(PCAP_SECONDS, left)
        steps.append(_play(pcap) + f'  <pause milliseconds="{round(pause * 1000)}" />\n')
        left -= pause
    body = """
  <recv request="INVITE" crlf="true">
    <action>
      <ereg regexp=".*" search_in="hdr" header="From:" check_it="true" assign_to="caller" />
      <ereg regexp=".*" search_in="hdr" header="To:" check_it="true" assign_to="callee" />
      <ereg regexp="sip:[^>;]*" search_in="hdr" header="Contact:" check_it="true" assign_to="peer" />
    </action>
  </recv>

  <send>
    <![CDATA[

      SIP/2.0 180 Ringing
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:[local_ip]:[local_port];transport=[transport]>
      Content-Length: 0

    ]]>
  </send>

  <pause milliseconds="300" />

  <send retrans="500">
    <![CDATA[

      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:[local_ip]:[local_port];transport=[transport]>
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=agent 53655765 2353687637 IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 8 101
      a=rtpmap:8 PCMA/8000
      a=rtpmap:101 telephone-event/8000
      a=fmtp:101 0-15

    ]]>
  </send>

  <recv request="ACK" rtd="true" crlf="true" />
"""
    bye = """
  <send retrans="500">
    <![CDATA[

      BYE [$peer] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: [$callee];tag=[pid]SIPpTag01[call_number]
      To: [$caller]
      [last_Call-ID:]
      CSeq: 2 BYE
      Contact: <sip:[local_ip]:[local_port];transport=[transport]>
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>

  <recv response="200" crlf="true" />
"""
    return _scenario("Agents' phone answers and talks", body + "".join(steps) + bye)


def agent_register() -> str:
    """Benchmark 3: registers one agent per call from the injection file (`username;password`), with digest;
    every contact points at the agents' phone (`-key agent_port N`)."""
    register = """
  <send retrans="500">
    <![CDATA[

      REGISTER sip:[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
      From: <sip:[field0]@[remote_ip]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[field0]@[remote_ip]>
      Call-ID: [call_id]
      CSeq: {cseq} REGISTER
      Contact: <sip:[field0]@[local_ip]:[agent_port]>
      Expires: 3600
{auth}      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
"""
    auth = "      [authentication username=[field0] password=[field1]]\n"
    body = (
        register.format(cseq=1, auth="")
        + '\n  <recv response="401" auth="true" />\n'
        + register.format(cseq=2, auth=auth)
        + '\n  <recv response="200" />\n'
    )
    return _scenario("Agents register", body)
