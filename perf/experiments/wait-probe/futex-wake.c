#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <pthread.h>
#include <sched.h>
#include <time.h>
#include <unistd.h>
#include <linux/futex.h>
#include <sys/syscall.h>
struct sched_attr{uint32_t size,sched_policy;uint64_t sched_flags;int32_t sched_nice;uint32_t sched_priority;uint64_t sched_runtime,sched_deadline,sched_period;uint32_t util_min,util_max;};
static volatile int word, go, done_flag;
static volatile uint64_t t0, t1;
static int xcpu, ycpu, iters = 2000, gap_us, slice_us, after_us = 100;
static uint64_t now(){struct timespec ts;clock_gettime(CLOCK_MONOTONIC,&ts);return ts.tv_sec*1000000000ull+ts.tv_nsec;}
static void pin(int c){cpu_set_t s;CPU_ZERO(&s);CPU_SET(c,&s);sched_setaffinity(0,sizeof s,&s);}
static void spin_ns(uint64_t ns){uint64_t e=now()+ns;while(now()<e);}
static uint64_t lat[100000];
static volatile int seq;
static void* X(void*a){pin(xcpu);
 if(slice_us){struct sched_attr at;memset(&at,0,sizeof at);at.size=sizeof at;at.sched_policy=SCHED_OTHER;at.sched_runtime=slice_us*1000ull;if(syscall(SYS_sched_setattr,0,&at,0))perror("setattr");}
 for(int i=0;i<iters;i++){ while(__atomic_load_n(&word,__ATOMIC_ACQUIRE)==0) syscall(SYS_futex,&word,FUTEX_WAIT_PRIVATE,0,0,0,0); t1=now(); lat[i]=t1-t0; __atomic_store_n(&word,0,__ATOMIC_RELEASE); __atomic_store_n(&seq,i+1,__ATOMIC_RELEASE);}
 return 0;}
static void* Y(void*a){pin(ycpu);
 for(int i=0;i<iters;i++){ spin_ns(gap_us*1000ull); t0=now(); __atomic_store_n(&word,1,__ATOMIC_RELEASE); syscall(SYS_futex,&word,FUTEX_WAKE_PRIVATE,1,0,0,0); spin_ns(after_us*1000ull); while(__atomic_load_n(&seq,__ATOMIC_ACQUIRE)<i+1) sched_yield(); }
 return 0;}
int cmp(const void*a,const void*b){uint64_t x=*(uint64_t*)a,y=*(uint64_t*)b;return x<y?-1:x>y;}
int main(int c,char**v){xcpu=atoi(v[1]);ycpu=atoi(v[2]);gap_us=atoi(v[3]);slice_us=c>4?atoi(v[4]):0;if(c>5)iters=atoi(v[5]);
 pthread_t a,b;pthread_create(&a,0,X,0);usleep(1000);pthread_create(&b,0,Y,0);pthread_join(a,0);pthread_join(b,0);
 qsort(lat,iters,8,cmp);printf("x%d y%d gap %dus slice %d: p50 %.1f p90 %.1f p99 %.1f max %.1f us\n",xcpu,ycpu,gap_us,slice_us,lat[iters/2]/1e3,lat[iters*9/10]/1e3,lat[iters*99/100]/1e3,lat[iters-1]/1e3);}
