#@ tests: hello ctl-echo
#@ targets: nvmet drive
t_ok hello
r=$(host_req echo hi there) ; t_eq x "$r" "hi there"
t_run ctl-echo true
