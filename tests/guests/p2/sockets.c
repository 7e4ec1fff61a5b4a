/* sockets: wasi:sockets called directly (WASI 0.2.12, no preview1
 * adapter; the C bindings come from wit-bindgen, see build.sh). Loopback
 * only, port 0 only, so that runs in parallel cannot collide.
 *
 *   1. TCP: a listener binds 127.0.0.1:0 and listens; a client connects to
 *      its port; the listener accepts; the client writes, the server reads
 *      and echoes back, the client reads; the client shuts down its
 *      sending side and the server reads the end of the stream.
 *   2. UDP: two sockets bind 127.0.0.1:0; b, connected to a, sends a
 *      datagram; a receives it, sees b's address, answers to it (a is not
 *      connected, so it names the address); b receives the answer.
 *   3. ip-name-lookup of "localhost" (127.0.0.1 must be among the
 *      results), of "127.0.0.1" and of an invalid name.
 *
 * Each step prints one line: "ok" or its result, or the error-code name at
 * which the section stops (so without network permission every section
 * reports what the host refused, e.g. access-denied). Every wait is a
 * poll with a 10 s timeout, so a broken host cannot hang the guest. */
#include <stdarg.h>
#include <string.h>

#include "format.h"
#include "sockets.h"

static wasi_io_streams_own_output_stream_t out;

static void say(const char *fmt, ...) {
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    sockets_list_u8_t bytes = {(uint8_t *)buf, format(buf, sizeof buf, fmt, ap)};
    va_end(ap);
    wasi_io_streams_stream_error_t e;
    wasi_io_streams_method_output_stream_blocking_write_and_flush(
        wasi_io_streams_borrow_output_stream(out), &bytes, &e);
}

static const char *net_error(wasi_sockets_network_error_code_t e) {
    static const char *names[] = {
        "unknown", "access-denied", "not-supported", "invalid-argument", "out-of-memory",
        "timeout", "concurrency-conflict", "not-in-progress", "would-block", "invalid-state",
        "new-socket-limit", "address-not-bindable", "address-in-use", "remote-unreachable",
        "connection-refused", "connection-reset", "connection-aborted", "datagram-too-large",
        "name-unresolvable", "temporary-resolver-failure", "permanent-resolver-failure",
    };
    return e < sizeof names / sizeof names[0] ? names[e] : "?";
}

static const char *stream_error(wasi_io_streams_stream_error_t *e) {
    if (e->tag == WASI_IO_STREAMS_STREAM_ERROR_CLOSED)
        return "closed";
    wasi_io_error_error_drop_own(e->val.last_operation_failed);
    return "last-operation-failed";
}

/* Waits until P is ready, at most 10 s. Consumes P. */
static bool wait_for(wasi_io_poll_own_pollable_t p) {
    wasi_io_poll_own_pollable_t timeout =
        wasi_clocks_monotonic_clock_subscribe_duration(10ull * 1000 * 1000 * 1000);
    wasi_io_poll_borrow_pollable_t list[2] = {wasi_io_poll_borrow_pollable(p),
                                              wasi_io_poll_borrow_pollable(timeout)};
    wasi_io_poll_list_borrow_pollable_t pollables = {list, 2};
    sockets_list_u32_t ready;
    wasi_io_poll_poll(&pollables, &ready);
    bool ok = false;
    for (size_t i = 0; i < ready.len; i++)
        ok |= ready.ptr[i] == 0;
    sockets_list_u32_free(&ready);
    wasi_io_poll_pollable_drop_own(timeout);
    wasi_io_poll_pollable_drop_own(p);
    if (!ok)
        say("timed out after 10 s\n");
    return ok;
}

static wasi_sockets_network_ip_socket_address_t loopback(uint16_t port) {
    wasi_sockets_network_ip_socket_address_t a;
    memset(&a, 0, sizeof a);
    a.tag = WASI_SOCKETS_NETWORK_IP_SOCKET_ADDRESS_IPV4;
    a.val.ipv4.port = port;
    a.val.ipv4.address = (wasi_sockets_network_ipv4_address_t){127, 0, 0, 1};
    return a;
}

static bool same_address(wasi_sockets_network_ip_socket_address_t *a,
                         wasi_sockets_network_ip_socket_address_t *b) {
    return a->tag == WASI_SOCKETS_NETWORK_IP_SOCKET_ADDRESS_IPV4 && a->tag == b->tag &&
           a->val.ipv4.port == b->val.ipv4.port &&
           memcmp(&a->val.ipv4.address, &b->val.ipv4.address, 4) == 0;
}

/* Reads exactly LEN bytes into BUF with blocking-read. */
static bool read_exactly(wasi_io_streams_own_input_stream_t in, char *buf, size_t len,
                         const char *what) {
    size_t got = 0;
    while (got < len) {
        sockets_list_u8_t bytes;
        wasi_io_streams_stream_error_t e;
        if (!wasi_io_streams_method_input_stream_blocking_read(
                wasi_io_streams_borrow_input_stream(in), len - got, &bytes, &e)) {
            say("%s: %s after %zu bytes\n", what, stream_error(&e), got);
            return false;
        }
        memcpy(buf + got, bytes.ptr, bytes.len);
        got += bytes.len;
        sockets_list_u8_free(&bytes);
    }
    return true;
}

static bool write_all(wasi_io_streams_own_output_stream_t s, const char *text, const char *what) {
    sockets_list_u8_t bytes = {(uint8_t *)text, strlen(text)};
    wasi_io_streams_stream_error_t e;
    if (!wasi_io_streams_method_output_stream_blocking_write_and_flush(
            wasi_io_streams_borrow_output_stream(s), &bytes, &e)) {
        say("%s: %s\n", what, stream_error(&e));
        return false;
    }
    return true;
}

/* Calls FINISH until it stops saying would-block, waiting on SOCK's
 * pollable in between. Prints "WHAT: ok" or the error. */
#define FINISH(what, subscribe, sock, call)                                         \
    for (;;) {                                                                      \
        wasi_sockets_network_error_code_t code_;                                    \
        if (call) {                                                                 \
            say("%s: ok\n", what);                                                  \
            break;                                                                  \
        }                                                                           \
        if (code_ != WASI_SOCKETS_NETWORK_ERROR_CODE_WOULD_BLOCK) {                 \
            say("%s: %s\n", what, net_error(code_));                                \
            return;                                                                 \
        }                                                                           \
        if (!wait_for(subscribe(sock)))                                             \
            return;                                                                 \
    }

#define TRY(what, call)                                                             \
    do {                                                                            \
        wasi_sockets_network_error_code_t code_;                                    \
        if (!(call)) {                                                              \
            say("%s: %s\n", what, net_error(code_));                                \
            return;                                                                 \
        }                                                                           \
    } while (0)

static void tcp(wasi_sockets_network_borrow_network_t net) {
    wasi_sockets_tcp_own_tcp_socket_t listener, client;
    TRY("tcp create-tcp-socket", wasi_sockets_tcp_create_socket_create_tcp_socket(
                                     WASI_SOCKETS_NETWORK_IP_ADDRESS_FAMILY_IPV4, &listener, &code_));
    wasi_sockets_tcp_borrow_tcp_socket_t l = wasi_sockets_tcp_borrow_tcp_socket(listener);
    wasi_sockets_network_ip_socket_address_t addr = loopback(0);
    TRY("tcp bind 127.0.0.1:0", wasi_sockets_tcp_method_tcp_socket_start_bind(l, net, &addr, &code_));
    FINISH("tcp bind 127.0.0.1:0", wasi_sockets_tcp_method_tcp_socket_subscribe, l,
           wasi_sockets_tcp_method_tcp_socket_finish_bind(l, &code_));
    TRY("tcp listen", wasi_sockets_tcp_method_tcp_socket_start_listen(l, &code_));
    FINISH("tcp listen", wasi_sockets_tcp_method_tcp_socket_subscribe, l,
           wasi_sockets_tcp_method_tcp_socket_finish_listen(l, &code_));
    wasi_sockets_network_ip_socket_address_t bound;
    TRY("tcp local-address", wasi_sockets_tcp_method_tcp_socket_local_address(l, &bound, &code_));
    wasi_sockets_network_ip_socket_address_t expected = loopback(bound.val.ipv4.port);
    say("tcp listener on 127.0.0.1, port not 0: %s\n",
        same_address(&bound, &expected) && bound.val.ipv4.port != 0 ? "yes" : "no");

    TRY("tcp create-tcp-socket (client)",
        wasi_sockets_tcp_create_socket_create_tcp_socket(WASI_SOCKETS_NETWORK_IP_ADDRESS_FAMILY_IPV4,
                                                         &client, &code_));
    wasi_sockets_tcp_borrow_tcp_socket_t c = wasi_sockets_tcp_borrow_tcp_socket(client);
    TRY("tcp connect", wasi_sockets_tcp_method_tcp_socket_start_connect(c, net, &bound, &code_));
    wasi_sockets_tcp_tuple2_own_input_stream_own_output_stream_t cio;
    FINISH("tcp connect", wasi_sockets_tcp_method_tcp_socket_subscribe, c,
           wasi_sockets_tcp_method_tcp_socket_finish_connect(c, &cio, &code_));
    wasi_sockets_tcp_tuple3_own_tcp_socket_own_input_stream_own_output_stream_t sio;
    FINISH("tcp accept", wasi_sockets_tcp_method_tcp_socket_subscribe, l,
           wasi_sockets_tcp_method_tcp_socket_accept(l, &sio, &code_));
    wasi_sockets_tcp_borrow_tcp_socket_t s = wasi_sockets_tcp_borrow_tcp_socket(sio.f0);

    wasi_sockets_network_ip_socket_address_t client_addr, peer;
    TRY("tcp client local-address", wasi_sockets_tcp_method_tcp_socket_local_address(c, &client_addr, &code_));
    TRY("tcp server remote-address", wasi_sockets_tcp_method_tcp_socket_remote_address(s, &peer, &code_));
    say("tcp accepted peer is the client: %s\n", same_address(&client_addr, &peer) ? "yes" : "no");

    const char *ping = "ping over tcp";
    char buf[64] = {0};
    if (!write_all(cio.f1, ping, "tcp client write") ||
        !read_exactly(sio.f1, buf, strlen(ping), "tcp server read"))
        return;
    say("tcp server received: %s\n", buf);
    char echo[64] = "echo: ";
    strcat(echo, buf);
    memset(buf, 0, sizeof buf);
    if (!write_all(sio.f2, echo, "tcp server write") ||
        !read_exactly(cio.f0, buf, strlen(echo), "tcp client read"))
        return;
    say("tcp client received: %s\n", buf);

    TRY("tcp client shutdown send", wasi_sockets_tcp_method_tcp_socket_shutdown(
                                        c, WASI_SOCKETS_TCP_SHUTDOWN_TYPE_SEND, &code_));
    sockets_list_u8_t bytes;
    wasi_io_streams_stream_error_t e;
    if (wasi_io_streams_method_input_stream_blocking_read(wasi_io_streams_borrow_input_stream(sio.f1),
                                                          16, &bytes, &e))
        say("tcp server read after the client's shutdown: %zu bytes\n", bytes.len);
    else
        say("tcp server read after the client's shutdown: %s\n", stream_error(&e));

    /* Streams before their sockets. */
    wasi_io_streams_input_stream_drop_own(sio.f1);
    wasi_io_streams_output_stream_drop_own(sio.f2);
    wasi_io_streams_input_stream_drop_own(cio.f0);
    wasi_io_streams_output_stream_drop_own(cio.f1);
    wasi_sockets_tcp_tcp_socket_drop_own(sio.f0);
    wasi_sockets_tcp_tcp_socket_drop_own(client);
    wasi_sockets_tcp_tcp_socket_drop_own(listener);
}

typedef struct {
    wasi_sockets_udp_own_udp_socket_t sock;
    wasi_sockets_network_ip_socket_address_t addr;
    wasi_sockets_udp_own_incoming_datagram_stream_t in;
    wasi_sockets_udp_own_outgoing_datagram_stream_t out;
} udp_end;

static bool udp_bind(wasi_sockets_network_borrow_network_t net, udp_end *u, const char *what) {
#undef TRY
#define TRY(w, call)                                                                \
    do {                                                                            \
        wasi_sockets_network_error_code_t code_;                                    \
        if (!(call)) {                                                              \
            say("%s: %s\n", w, net_error(code_));                                   \
            return false;                                                           \
        }                                                                           \
    } while (0)
    TRY("udp create-udp-socket", wasi_sockets_udp_create_socket_create_udp_socket(
                                     WASI_SOCKETS_NETWORK_IP_ADDRESS_FAMILY_IPV4, &u->sock, &code_));
    wasi_sockets_udp_borrow_udp_socket_t s = wasi_sockets_udp_borrow_udp_socket(u->sock);
    wasi_sockets_network_ip_socket_address_t addr = loopback(0);
    TRY(what, wasi_sockets_udp_method_udp_socket_start_bind(s, net, &addr, &code_));
    for (;;) {
        wasi_sockets_network_error_code_t code;
        if (wasi_sockets_udp_method_udp_socket_finish_bind(s, &code))
            break;
        if (code != WASI_SOCKETS_NETWORK_ERROR_CODE_WOULD_BLOCK) {
            say("%s: %s\n", what, net_error(code));
            return false;
        }
        if (!wait_for(wasi_sockets_udp_method_udp_socket_subscribe(s)))
            return false;
    }
    TRY("udp local-address", wasi_sockets_udp_method_udp_socket_local_address(s, &u->addr, &code_));
    say("%s: ok\n", what);
    return true;
}

static bool udp_send(udp_end *u, const char *text, wasi_sockets_network_ip_socket_address_t *to,
                     const char *what) {
    wasi_sockets_udp_borrow_outgoing_datagram_stream_t o =
        wasi_sockets_udp_borrow_outgoing_datagram_stream(u->out);
    uint64_t permits = 0;
    while (permits == 0) {
        TRY(what, wasi_sockets_udp_method_outgoing_datagram_stream_check_send(o, &permits, &code_));
        if (permits == 0 && !wait_for(wasi_sockets_udp_method_outgoing_datagram_stream_subscribe(o)))
            return false;
    }
    wasi_sockets_udp_outgoing_datagram_t d;
    memset(&d, 0, sizeof d);
    d.data = (sockets_list_u8_t){(uint8_t *)text, strlen(text)};
    if (to) {
        d.remote_address.is_some = true;
        d.remote_address.val = *to;
    }
    wasi_sockets_udp_list_outgoing_datagram_t list = {&d, 1};
    uint64_t sent;
    TRY(what, wasi_sockets_udp_method_outgoing_datagram_stream_send(o, &list, &sent, &code_));
    say("%s: %llu datagram\n", what, (unsigned long long)sent);
    return true;
}

/* Receives one datagram; prints it and whether it came from FROM. */
static bool udp_receive(udp_end *u, udp_end *from, const char *what) {
    wasi_sockets_udp_borrow_incoming_datagram_stream_t i =
        wasi_sockets_udp_borrow_incoming_datagram_stream(u->in);
    wasi_sockets_udp_list_incoming_datagram_t got = {0, 0};
    while (got.len == 0) {
        TRY(what, wasi_sockets_udp_method_incoming_datagram_stream_receive(i, 1, &got, &code_));
        if (got.len == 0 && !wait_for(wasi_sockets_udp_method_incoming_datagram_stream_subscribe(i)))
            return false;
    }
    say("%s: \"%.*s\", from the sender's address: %s\n", what, (int)got.ptr[0].data.len,
        (const char *)got.ptr[0].data.ptr,
        same_address(&got.ptr[0].remote_address, &from->addr) ? "yes" : "no");
    wasi_sockets_udp_list_incoming_datagram_free(&got);
    return true;
}

static bool udp_stream(udp_end *u, wasi_sockets_network_ip_socket_address_t *remote, const char *what) {
    wasi_sockets_udp_tuple2_own_incoming_datagram_stream_own_outgoing_datagram_stream_t io;
    TRY(what, wasi_sockets_udp_method_udp_socket_stream(wasi_sockets_udp_borrow_udp_socket(u->sock),
                                                        remote, &io, &code_));
    u->in = io.f0;
    u->out = io.f1;
    return true;
}

static void udp(wasi_sockets_network_borrow_network_t net) {
    udp_end a, b;
    if (!udp_bind(net, &a, "udp bind a to 127.0.0.1:0") || !udp_bind(net, &b, "udp bind b to 127.0.0.1:0"))
        return;
    if (!udp_stream(&a, NULL, "udp stream a (unconnected)") ||
        !udp_stream(&b, &a.addr, "udp stream b (connected to a)"))
        return;
    if (!udp_send(&b, "ping over udp", NULL, "udp b send") ||
        !udp_receive(&a, &b, "udp a received") ||
        !udp_send(&a, "echo: ping over udp", &b.addr, "udp a send to b") ||
        !udp_receive(&b, &a, "udp b received"))
        return;
    wasi_sockets_udp_incoming_datagram_stream_drop_own(a.in);
    wasi_sockets_udp_outgoing_datagram_stream_drop_own(a.out);
    wasi_sockets_udp_incoming_datagram_stream_drop_own(b.in);
    wasi_sockets_udp_outgoing_datagram_stream_drop_own(b.out);
    wasi_sockets_udp_udp_socket_drop_own(a.sock);
    wasi_sockets_udp_udp_socket_drop_own(b.sock);
}

/* Resolves NAME; prints whether 127.0.0.1 is among the addresses, and with
 * SHOW_COUNT how many there are ("localhost" may also give ::1). */
static void lookup(wasi_sockets_network_borrow_network_t net, const char *name, bool show_count) {
    sockets_string_t s = {(uint8_t *)name, strlen(name)};
    wasi_sockets_ip_name_lookup_own_resolve_address_stream_t stream;
    wasi_sockets_network_error_code_t code;
    if (!wasi_sockets_ip_name_lookup_resolve_addresses(net, &s, &stream, &code)) {
        say("ip-name-lookup \"%s\": %s\n", name, net_error(code));
        return;
    }
    wasi_sockets_ip_name_lookup_borrow_resolve_address_stream_t b =
        wasi_sockets_ip_name_lookup_borrow_resolve_address_stream(stream);
    size_t count = 0;
    bool has_loopback = false;
    for (;;) {
        wasi_sockets_ip_name_lookup_option_ip_address_t next;
        if (!wasi_sockets_ip_name_lookup_method_resolve_address_stream_resolve_next_address(b, &next, &code)) {
            if (code == WASI_SOCKETS_NETWORK_ERROR_CODE_WOULD_BLOCK &&
                wait_for(wasi_sockets_ip_name_lookup_method_resolve_address_stream_subscribe(b)))
                continue;
            say("ip-name-lookup \"%s\": %s\n", name, net_error(code));
            wasi_sockets_ip_name_lookup_resolve_address_stream_drop_own(stream);
            return;
        }
        if (!next.is_some)
            break;
        count++;
        wasi_sockets_network_ipv4_address_t lo = {127, 0, 0, 1};
        has_loopback |= next.val.tag == WASI_SOCKETS_NETWORK_IP_ADDRESS_IPV4 &&
                        memcmp(&next.val.val.ipv4, &lo, 4) == 0;
    }
    wasi_sockets_ip_name_lookup_resolve_address_stream_drop_own(stream);
    if (show_count)
        say("ip-name-lookup \"%s\": ok, %zu address%s, 127.0.0.1 among them: %s\n", name, count,
            count == 1 ? "" : "es", has_loopback ? "yes" : "no");
    else
        say("ip-name-lookup \"%s\": ok, 127.0.0.1 among them: %s\n", name, has_loopback ? "yes" : "no");
}

bool exports_wasi_cli_run_run(void) {
    out = wasi_cli_stdout_get_stdout();
    wasi_sockets_network_own_network_t network = wasi_sockets_instance_network_instance_network();
    wasi_sockets_network_borrow_network_t net = wasi_sockets_network_borrow_network(network);
    tcp(net);
    udp(net);
    lookup(net, "localhost", false);
    lookup(net, "127.0.0.1", true);
    lookup(net, "not a host name!", true);
    wasi_sockets_network_network_drop_own(network);
    return true;
}
