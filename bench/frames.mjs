// ARCP job.event frames of about 300 bytes, as a runtime streams them.
export function eventFrame(i) {
  const text = `{"arcp":"1.1","id":"msg_01M80QHAZHKND52K343DK${String(i).padStart(7, '0')}","type":"job.event","session_id":"sess_01M80QHAZB208AJEZ22BQZRKQV","job_id":"job_01M80QHAZGPKX6F23JQZPTJ74B","event_seq":${i},"payload":{"kind":"log","body":{"level":"info","message":"processed item ${i} of the batch"}}}`;
  return Buffer.from(text);
}
