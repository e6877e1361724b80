import random, sys
seed=int(sys.argv[1]); n=int(sys.argv[2]); r=random.Random(seed)
print(f"# {n} seeded random groups with racks for the range assignor: python3 scripts/kafka-probes/random_rack_cases.py {seed} {n}")
print()
for c in range(n):
    print(f"case range-racks-random-{c}")
    print("source random")
    print("assignor range")
    nb=r.randint(2,5); racks=[r.choice("abc-") if r.random()<0.3 else "abc"[i%r.randint(1,3)] for i in range(nb)]
    print("brokers "+",".join(racks))
    topics=[]
    for t in range(r.randint(1,4)):
        cnt=r.randint(1,8); rf=r.randint(1,min(3,nb)); name="t"+str(t+1); topics.append(name)
        reps=["/".join(map(str,r.sample(range(nb),rf))) for _ in range(cnt)]
        print(f"topic {name} {cnt} replicas="+",".join(reps))
    for m in range(r.randint(1,5)):
        ts=[t for t in topics if r.random()<0.7] or [topics[0]]
        f=f"member m{r.randint(0,99):02d}x{m} topics="+",".join(ts)
        if r.random()<0.2: f+=f" instance=i{r.randint(0,9)}{m}"
        if r.random()<0.8: f+=" rack="+r.choice("abcd")
        print(f)
    print("run"); print()
