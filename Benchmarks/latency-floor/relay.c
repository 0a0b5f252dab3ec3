// Minimal publish->relay->subscribe chain over loopback TCP (no TLS, blocking I/O, 3 threads),
// paced like herald bench load --latency: every 1 ms, the due 128-byte messages, each stamped at encode.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <pthread.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#define SZ 128
static long long now(){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec*1000000000LL+t.tv_nsec;}
static int rate=20000, secs=5; static long total; static long long *lat; static int pubfd, relin, relout, subfd;
static void nd(int fd){int one=1;setsockopt(fd,IPPROTO_TCP,TCP_NODELAY,&one,sizeof one);}
static void pair(int *a,int *b){int l=socket(AF_INET,SOCK_STREAM,0);struct sockaddr_in s={0};s.sin_family=AF_INET;s.sin_addr.s_addr=htonl(0x7f000001);
 bind(l,(void*)&s,sizeof s);socklen_t n=sizeof s;getsockname(l,(void*)&s,&n);listen(l,1);*a=socket(AF_INET,SOCK_STREAM,0);connect(*a,(void*)&s,sizeof s);*b=accept(l,0,0);close(l);nd(*a);nd(*b);}
static void*pub(void*x){char buf[SZ*200];long sent=0;long long start=now();struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);
 while(sent<total){long long el=now()-start;long due=(long)(el/1e9*rate)+1;if(due>total)due=total;int k=0;
  while(sent<due&&k<200){long long st=now();memset(buf+k*SZ,'x',SZ);memcpy(buf+k*SZ,&st,8);k++;sent++;}
  if(k)write(pubfd,buf,k*SZ);
  t.tv_nsec+=1000000;if(t.tv_nsec>=1000000000){t.tv_nsec-=1000000000;t.tv_sec++;}clock_nanosleep(CLOCK_MONOTONIC,TIMER_ABSTIME,&t,0);}
 return 0;}
static void*rel(void*x){char buf[65536];for(;;){ssize_t n=read(relin,buf,sizeof buf);if(n<=0)return 0;write(relout,buf,n);}}
static int cmp(const void*a,const void*b){long long x=*(long long*)a,y=*(long long*)b;return x<y?-1:x>y;}
int main(int c,char**v){if(c>1)secs=atoi(v[1]);total=(long)rate*secs;lat=malloc(total*8);int a,b;pair(&pubfd,&relin);pair(&relout,&subfd);
 pthread_t t1,t2;pthread_create(&t2,0,rel,0);pthread_create(&t1,0,pub,0);
 static char buf[65536+SZ];long got=0;int have=0;
 while(got<total){ssize_t n=read(subfd,buf+have,65536);if(n<=0)break;long long t=now();have+=n;int off=0;
  while(have-off>=SZ){long long st;memcpy(&st,buf+off,8);lat[got++]=t-st;off+=SZ;}memmove(buf,buf+off,have-off);have-=off;}
 qsort(lat,got,8,cmp);
 #define P(q) lat[(long)(got*q)<got?(long)(got*q):got-1]/1000.0
 printf("C relay chain n=%ld: p50 %.0f us, p99 %.0f us, p99.9 %.0f us, p99.99 %.0f us, max %.0f us\n",got,P(.5),P(.99),P(.999),P(.9999),lat[got-1]/1000.0);}
