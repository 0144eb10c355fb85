/* c_peers.c: the C peers of stack_compare behind plain functions. ck_stack.h and liburcu's
 * lfstack.h are C headers that do not compile as C++ (implicit void* conversions, transparent
 * unions), so their inline operations are compiled here, in C. Each call is therefore one
 * ordinary function call more than for the C++ rows: a few ns at most, said in the output. */
#include <ck_stack.h>
#include <stdlib.h>
#include <urcu/lfstack.h>

#include "bench/stack/c_peers.h"

struct ck_stack* cp_ck_new(void) {
  /* 16-byte aligned: pop_mpmc's 16-byte CAS (cmpxchg16b) needs it. */
  struct ck_stack* s = aligned_alloc(16, 16);
  ck_stack_init(s);
  return s;
}
void cp_ck_delete(struct ck_stack* s) { free(s); }
void cp_ck_push(struct ck_stack* s, struct ck_stack_entry* e) { ck_stack_push_mpmc(s, e); }
struct ck_stack_entry* cp_ck_pop(struct ck_stack* s) { return ck_stack_pop_mpmc(s); }

struct cds_lfs_stack* cp_lfs_new(void) {
  struct cds_lfs_stack* s = malloc(sizeof *s);
  cds_lfs_init(s);
  return s;
}
void cp_lfs_delete(struct cds_lfs_stack* s) {
  cds_lfs_destroy(s);
  free(s);
}
void cp_lfs_node_init(struct cds_lfs_node* n) { cds_lfs_node_init(n); }
void cp_lfs_push(struct cds_lfs_stack* s, struct cds_lfs_node* n) { cds_lfs_push(s, n); }
struct cds_lfs_node* cp_lfs_pop_blocking(struct cds_lfs_stack* s) { return cds_lfs_pop_blocking(s); }
