/* c_peers.h: see c_peers.c. Node types are the libraries' own; C++ sees them as opaque. */
#ifndef CP_BENCH_STACK_C_PEERS_H
#define CP_BENCH_STACK_C_PEERS_H

#include <stdlib.h>

#ifdef __cplusplus
extern "C" {
#endif

struct ck_stack;
struct ck_stack_entry;
struct cds_lfs_stack;
struct cds_lfs_node;

struct ck_stack* cp_ck_new(void);
void cp_ck_delete(struct ck_stack* s);
/* A ck_stack_entry and a cds_lfs_node are each one `next` pointer: the C++ side embeds a
 * void* at offset 0 of its node and passes its address. */
void cp_ck_push(struct ck_stack* s, struct ck_stack_entry* e);
struct ck_stack_entry* cp_ck_pop(struct ck_stack* s);

struct cds_lfs_stack* cp_lfs_new(void);
void cp_lfs_delete(struct cds_lfs_stack* s);
void cp_lfs_node_init(struct cds_lfs_node* n);
void cp_lfs_push(struct cds_lfs_stack* s, struct cds_lfs_node* n);
struct cds_lfs_node* cp_lfs_pop_blocking(struct cds_lfs_stack* s);

#ifdef __cplusplus
}
#endif
#endif
