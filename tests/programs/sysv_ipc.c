/* System V message queues and semaphores between threads of one process. Run on one carrier
 * without hand-off (tests/run.sh), every wait here is one the other thread must end: a msgrcv,
 * msgsnd or semop that blocked the carrier in the kernel would never see its partner run (the
 * test hung). Under libgreen each waits on an offload worker while its thread parks.
 * - ping-pong: 200 round trips of checked messages between two threads (msgrcv by type);
 * - a full queue: a sender blocks in msgsnd until a slower reader drains it (every byte read);
 * - semaphores: 200 hand-offs between two threads through two semaphores, SEM_UNDO included;
 * - a chain of 99 semaphore waits, each ended by the thread that started after it (more waits
 *   than the offload pool's bound of 4 for other calls, and than its 64 workers before waits
 *   got up to 4096: they must not queue behind each other);
 * - semtimedop times out with EAGAIN after its timeout, not before;
 * - a handler ends a msgrcv and a semop wait with EINTR (never restarted, SA_RESTART or not),
 *   also a msgrcv the main thread makes with no other thread alive;
 * - a queue removed while a thread waits in msgrcv: EIDRM;
 * - the kernel's errors: ENOMSG (IPC_NOWAIT, empty), E2BIG (message too long without
 *   MSG_NOERROR), EINVAL (bad id, mtype 0, no operations, bad timeout), EFAULT (bad sops),
 *   EFBIG (sem_num out of range), EAGAIN (IPC_NOWAIT on a zero semaphore). */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "clock_ns.h"

#define ROUNDS 200

struct msg {
    long type;
    char text[64];
};

union semun {
    int val;
    struct semid_ds *buf;
    unsigned short *array;
};

static int q, sems;

static void die(const char *what)
{
    perror(what);
    exit(1);
}

/* Prints a call's result and, when it failed, its errno's name (taken right after the call). */
#define SHOW(label, call)                                                                          \
    do {                                                                                           \
        errno = 0;                                                                                 \
        long r_ = (long)(call);                                                                    \
        int e_ = errno;                                                                            \
        printf("%s: %ld %s\n", label, r_, r_ < 0 ? strerrorname_np(e_) : "ok");                    \
    } while (0)

static void fill(struct msg *m, long type, int i)
{
    memset(m, 0, sizeof *m);
    m->type = type;
    snprintf(m->text, sizeof m->text, "message %d of type %ld", i, type);
}

/* Answers each type-1 message with a type-2 copy. */
static void *echo(void *arg)
{
    (void)arg;
    for (int i = 0; i < ROUNDS; i++) {
        struct msg m;
        ssize_t n = msgrcv(q, &m, sizeof m.text, 1, 0);
        if (n != sizeof m.text)
            die("echo msgrcv");
        m.type = 2;
        if (msgsnd(q, &m, sizeof m.text, 0))
            die("echo msgsnd");
    }
    return NULL;
}

static void ping_pong(void)
{
    pthread_t t;
    pthread_create(&t, NULL, echo, NULL);
    int good = 0;
    for (int i = 0; i < ROUNDS; i++) {
        struct msg m, back;
        fill(&m, 1, i);
        if (msgsnd(q, &m, sizeof m.text, 0))
            die("msgsnd");
        if (msgrcv(q, &back, sizeof back.text, 2, 0) != sizeof back.text)
            die("msgrcv");
        good += !memcmp(m.text, back.text, sizeof m.text);
    }
    pthread_join(t, NULL);
    printf("ping-pong: %d of %d messages came back intact\n", good, ROUNDS);
}

#define FULL_MSGS 64

/* Reads FULL_MSGS messages slowly, checking each. */
static void *slow_reader(void *arg)
{
    long *sum = arg;
    for (int i = 0; i < FULL_MSGS; i++) {
        if (i % 8 == 0)
            usleep(5000);
        struct msg m, want;
        if (msgrcv(q, &m, sizeof m.text, 3, 0) != sizeof m.text)
            die("slow msgrcv");
        fill(&want, 3, i);
        *sum += !memcmp(m.text, want.text, sizeof m.text) ? (long)sizeof m.text : 0;
    }
    return NULL;
}

static void full_queue(void)
{
    struct msqid_ds ds;
    if (msgctl(q, IPC_STAT, &ds))
        die("IPC_STAT");
    ds.msg_qbytes = 4 * sizeof ((struct msg *)0)->text; /* room for four messages */
    if (msgctl(q, IPC_SET, &ds))
        die("IPC_SET");
    long sum = 0;
    pthread_t t;
    pthread_create(&t, NULL, slow_reader, &sum);
    int sent = 0;
    for (int i = 0; i < FULL_MSGS; i++) {
        struct msg m;
        fill(&m, 3, i);
        sent += msgsnd(q, &m, sizeof m.text, 0) == 0;
    }
    pthread_join(t, NULL);
    printf("full queue: %d sent, %ld of %ld bytes read back\n", sent, sum, (long)FULL_MSGS * 64);
}

static int sem_step(unsigned short num, short op, short flg)
{
    struct sembuf b = {.sem_num = num, .sem_op = op, .sem_flg = flg};
    return semop(sems, &b, 1);
}

/* Waits on semaphore 0 and posts semaphore 1, ROUNDS times. */
static void *sem_partner(void *arg)
{
    int *turns = arg;
    for (int i = 0; i < ROUNDS; i++) {
        if (sem_step(0, -1, SEM_UNDO))
            die("partner wait");
        ++*turns;
        if (sem_step(1, 1, SEM_UNDO))
            die("partner post");
    }
    return NULL;
}

static void semaphores(void)
{
    int turns = 0, in_order = 0;
    pthread_t t;
    pthread_create(&t, NULL, sem_partner, &turns);
    for (int i = 0; i < ROUNDS; i++) {
        if (sem_step(0, 1, SEM_UNDO))
            die("post");
        if (sem_step(1, -1, SEM_UNDO))
            die("wait");
        in_order += turns == i + 1;
    }
    pthread_join(t, NULL);
    printf("semaphores: %d of %d hand-offs in order, values %d %d\n", in_order, ROUNDS,
           semctl(sems, 0, GETVAL), semctl(sems, 1, GETVAL));
}

#define CHAIN 100
static int chain_set;

/* Link i waits on semaphore i, then posts semaphore i - 1. */
static void *chain_link(void *arg)
{
    int i = (int)(intptr_t)arg;
    struct sembuf wait = {.sem_num = i, .sem_op = -1}, post = {.sem_num = i - 1, .sem_op = 1};
    if (semop(chain_set, &wait, 1) || semop(chain_set, &post, 1))
        die("chain link");
    return NULL;
}

/* More simultaneous waits than the offload pool's default bound (4) and than GREEN_OFFLOAD_THREADS'
 * upper bound (64), each ended only by the one started after it: links 1..CHAIN-1 wait in
 * creation order, the last link is woken first. */
static void chain(void)
{
    chain_set = semget(IPC_PRIVATE, CHAIN, IPC_CREAT | 0600);
    if (chain_set < 0)
        die("semget chain");
    pthread_t t[CHAIN];
    for (int i = 1; i < CHAIN; i++)
        pthread_create(&t[i], NULL, chain_link, (void *)(intptr_t)i);
    usleep(50000);
    struct sembuf start = {.sem_num = CHAIN - 1, .sem_op = 1}, end = {.sem_num = 0, .sem_op = -1};
    SHOW("chain of waits: start", semop(chain_set, &start, 1));
    SHOW("chain of waits: end", semop(chain_set, &end, 1));
    for (int i = 1; i < CHAIN; i++)
        pthread_join(t[i], NULL);
    semctl(chain_set, 0, IPC_RMID);
}

static void timed_wait(void)
{
    struct sembuf b = {.sem_num = 0, .sem_op = -1};
    struct timespec ts = {.tv_sec = 0, .tv_nsec = 80 * 1000 * 1000};
    long long t0 = now_ns();
    SHOW("semtimedop on a zero semaphore", semtimedop(sems, &b, 1, &ts));
    printf("waited the timeout: %s\n", now_ns() - t0 >= 80 * 1000 * 1000 ? "yes" : "no");
}

static volatile sig_atomic_t handled;

static void on_usr1(int sig)
{
    (void)sig;
    handled++;
}

/* Waits on the queue, then on semaphore 0, each until a signal ends the wait. */
static void *interrupted_waiter(void *arg)
{
    (void)arg;
    struct msg m;
    SHOW("msgrcv interrupted by a handler", msgrcv(q, &m, sizeof m.text, 77, 0));
    struct sembuf b = {.sem_num = 0, .sem_op = -1};
    SHOW("semop interrupted by a handler", semop(sems, &b, 1));
    return NULL;
}

/* A handler (SA_RESTART, which these calls ignore: never restarted) ends a msgrcv and a semop
 * wait with EINTR; the queue and the semaphore work on afterwards. */
static void interrupted(void)
{
    struct sigaction sa = {.sa_handler = on_usr1, .sa_flags = SA_RESTART};
    sigaction(SIGUSR1, &sa, NULL);
    pthread_t t;
    pthread_create(&t, NULL, interrupted_waiter, NULL);
    for (int i = 0; i < 2; i++) {
        usleep(50000);
        pthread_kill(t, SIGUSR1);
    }
    pthread_join(t, NULL);
    struct msg m, back;
    fill(&m, 77, 1);
    SHOW("msgsnd after", msgsnd(q, &m, sizeof m.text, 0));
    SHOW("msgrcv after", msgrcv(q, &back, sizeof back.text, 77, 0));
    printf("handler ran %d times\n", (int)handled);
}

/* With no other thread, the wait is made on the main thread itself: a timer's handler ends it
 * with EINTR there too. */
static void alone(void)
{
    struct sigaction sa = {.sa_handler = on_usr1};
    sigaction(SIGALRM, &sa, NULL);
    struct itimerval it = {.it_value = {.tv_sec = 0, .tv_usec = 50000}};
    setitimer(ITIMER_REAL, &it, NULL);
    struct msg m;
    SHOW("msgrcv alone, ended by a timer's handler", msgrcv(q, &m, sizeof m.text, 99, 0));
}

static void *rm_later(void *arg)
{
    (void)arg;
    usleep(50000);
    if (msgctl(q, IPC_RMID, NULL))
        die("IPC_RMID");
    return NULL;
}

static void removed_while_waiting(void)
{
    pthread_t t;
    pthread_create(&t, NULL, rm_later, NULL);
    struct msg m;
    SHOW("msgrcv on a queue removed meanwhile", msgrcv(q, &m, sizeof m.text, 0, 0));
    pthread_join(t, NULL);
}

static void errors(void)
{
    struct msg m;
    SHOW("msgrcv IPC_NOWAIT, empty", msgrcv(q, &m, sizeof m.text, 0, IPC_NOWAIT));
    fill(&m, 5, 0);
    SHOW("msgsnd type 5", msgsnd(q, &m, sizeof m.text, 0));
    SHOW("msgrcv too short", msgrcv(q, &m, 4, 5, 0));
    SHOW("msgrcv MSG_NOERROR", msgrcv(q, &m, 4, 5, MSG_NOERROR));
    SHOW("msgrcv bad id", msgrcv(-1, &m, sizeof m.text, 0, 0));
    m.type = 0;
    SHOW("msgsnd type 0", msgsnd(q, &m, sizeof m.text, 0));
    struct sembuf b = {.sem_num = 0, .sem_op = -1};
    SHOW("semop no operations", semop(sems, &b, 0));
    SHOW("semop bad sops", semop(sems, (struct sembuf *)8, 1));
    b.sem_num = 9;
    SHOW("semop sem_num 9 of 2", semop(sems, &b, 1));
    b.sem_num = 0;
    b.sem_flg = IPC_NOWAIT;
    SHOW("semop IPC_NOWAIT on zero", semop(sems, &b, 1));
    /* The timeout is checked even when nothing has to wait. */
    struct timespec bad = {.tv_sec = 0, .tv_nsec = -1};
    b.sem_op = 1;
    b.sem_flg = 0;
    SHOW("semtimedop bad timeout", semtimedop(sems, &b, 1, &bad));
    SHOW("value after it", semctl(sems, 0, GETVAL));
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    q = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
    sems = semget(IPC_PRIVATE, 2, IPC_CREAT | 0600);
    if (q < 0 || sems < 0)
        die("msgget/semget");
    ping_pong();
    full_queue();
    semaphores();
    chain();
    timed_wait();
    errors();
    interrupted();
    alone();
    removed_while_waiting();
    semctl(sems, 0, IPC_RMID);
    return 0;
}
