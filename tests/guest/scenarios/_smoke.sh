#@ tests: boot ctl-channel
#@ targets: drive nvmet
#@ timeout: 120
#
# Harness smoke test (runs only when named: run.py _smoke): the guest boots,
# reports a result and gets an answer from the host over the control channel.
t_ok boot "$(uptime_s)s after power-on"
r=$(host_req echo hello host)
if [ "$r" = "hello host" ]; then t_ok ctl-channel; else t_fail ctl-channel "host replied '$r'"; fi
