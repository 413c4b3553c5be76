#!/usr/bin/env python3
# Instructions per attempt by source file (self cost, inlined code counted in
# the file it comes from) of two callgrind profiles, and their difference.
#   python3 bench/callgrind_by_file.py A.out B.out ATTEMPTS
import re,sys,subprocess,collections
def load(path):
    out=subprocess.run(["callgrind_annotate","--auto=no","--threshold=100",path],capture_output=True,text=True).stdout
    d=collections.Counter()
    started=False
    for line in out.splitlines():
        if 'file:function' in line: started=True; continue
        if not started: continue
        m=re.match(r'\s*([\d,]+)\s+\([^)]*\)\s+(\S+?):(.*)',line)
        if not m: continue
        ir=int(m.group(1).replace(',',''))
        f=m.group(2).split('/')[-1]
        d[f]+=ir
    return d
a=load(sys.argv[1]); b=load(sys.argv[2]); att=float(sys.argv[3])
keys=set(a)|set(b)
rows=sorted(keys,key=lambda k:-(a[k]-b[k]))
print("%-40s %10s %10s %10s"%("source file (self, incl. inlined)","A/att","B/att","diff"))
for k in rows:
    if abs(a[k]-b[k])/att>=2 or (a[k]+b[k])/att>20:
        print("%-40s %10.1f %10.1f %+10.1f"%(k,a[k]/att,b[k]/att,(a[k]-b[k])/att))
print("%-40s %10.1f %10.1f %+10.1f"%("TOTAL",sum(a.values())/att,sum(b.values())/att,(sum(a.values())-sum(b.values()))/att))
