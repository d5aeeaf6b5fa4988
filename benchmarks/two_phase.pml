/* Lamport's TwoPhase.tla in Promela, for benchmarks/bench_scale.py (SPIN's figures beside ours).
 *
 * The same spec as consensuslab/protocols/two_phase.py: one process whose loop
 * offers every action of the TLA+ Next as an atomic d_step, so one SPIN
 * transition is one TLA+ step and SPIN's "states, stored" equals TLC's count
 * (rm=3: 288; rm=6: 50,816; rm=8: 1,745,408; rm=9: 10,340,352).
 * An RM's state is kept as one bit in one of three masks (none set = working);
 * the message set as a Prepared mask and two flags.  N <= 12: spin -DN=8 -a two_phase.pml
 */
#ifndef N
#define N 3
#endif
#define ALL ((1 << N) - 1)
#define BIT(i) (1 << (i))
#define WORKING(i) (((prepared | committed | aborted) & BIT(i)) == 0)
#define BECOME(i, mask) prepared = prepared & ~BIT(i); committed = committed & ~BIT(i); \
                        aborted = aborted & ~BIT(i); mask = mask | BIT(i)

unsigned prepared : 12;
unsigned committed : 12;
unsigned aborted : 12;
unsigned tmPrepared : 12;
unsigned prepMsg : 12;  /* Prepared(i) \in msgs */
unsigned tmState : 2;   /* 0 init, 1 committed, 2 aborted */
bit commitMsg;
bit abortMsg;

/* RMPrepare, RMChooseToAbort, RMRcvCommitMsg, RMRcvAbortMsg and TMRcvPrepared for RM i */
#define RM(i) \
  :: d_step { tmState == 0 && (prepMsg & BIT(i)) -> tmPrepared = tmPrepared | BIT(i) } \
  :: d_step { WORKING(i) -> prepared = prepared | BIT(i); prepMsg = prepMsg | BIT(i) } \
  :: d_step { WORKING(i) -> aborted = aborted | BIT(i) } \
  :: d_step { commitMsg -> BECOME(i, committed) } \
  :: d_step { abortMsg -> BECOME(i, aborted) }

active proctype TwoPhase()
{
  do
  :: d_step { tmState == 0 && tmPrepared == ALL -> tmState = 1; commitMsg = 1 }  /* TMCommit */
  :: d_step { tmState == 0 -> tmState = 2; abortMsg = 1 }                        /* TMAbort */
  :: assert(committed == 0 || aborted == 0)                                      /* TCConsistent */
  RM(0)
#if N > 1
  RM(1)
#endif
#if N > 2
  RM(2)
#endif
#if N > 3
  RM(3)
#endif
#if N > 4
  RM(4)
#endif
#if N > 5
  RM(5)
#endif
#if N > 6
  RM(6)
#endif
#if N > 7
  RM(7)
#endif
#if N > 8
  RM(8)
#endif
#if N > 9
  RM(9)
#endif
#if N > 10
  RM(10)
#endif
#if N > 11
  RM(11)
#endif
  od
}
