#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <string.h>
static long long now(){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec*1000000000LL+t.tv_nsec;}
int main(int argc,char**argv){
  int mode=argc>1?atoi(argv[1]):0; /* 0 spin, 1 sleep 200us */
  double secs=argc>2?atof(argv[2]):5;
  long long start=now(),end=start+(long long)(secs*1e9),prev=start;
  long b[8]={0}; long long worst=0; long n=0;
  while(prev<end){
    if(mode==1){struct timespec s={0,200000};nanosleep(&s,0);}
    long long t=now(); long long gap=t-prev-(mode==1?200000:0); prev=t; n++;
    if(gap>worst)worst=gap;
    if(gap>50000)b[0]++; if(gap>100000)b[1]++; if(gap>250000)b[2]++; if(gap>500000)b[3]++; if(gap>1000000)b[4]++; if(gap>2000000)b[5]++;
  }
  printf("mode=%d n=%ld gaps >50us:%ld >100us:%ld >250us:%ld >500us:%ld >1ms:%ld >2ms:%ld worst=%.3f ms\n",mode,n,b[0],b[1],b[2],b[3],b[4],b[5],worst/1e6);
}
