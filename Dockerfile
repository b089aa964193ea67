# syntax=docker/dockerfile:1
# dsguard's image: built in a Rust image, run from distroless (glibc, CA certificates, no shell,
# no package manager) as the unprivileged user 65532. Build: `make image` (or
# `docker build -t ghcr.io/dsguard/dsguard:0.1.0 .`).

FROM docker.io/library/rust:1.89-bookworm AS build
WORKDIR /src
# Dependencies first, so that a source change does not rebuild them.
# The workspace names the simulator crate, so its manifest comes along (with an empty library);
# the product is built without it (`--no-default-features`: no `dsguard demo`, no `dsguard sim`).
COPY Cargo.toml Cargo.lock ./
COPY benches benches
COPY crates/dsguard-sim/Cargo.toml crates/dsguard-sim/Cargo.toml
RUN mkdir -p src crates/dsguard-sim/src && echo 'fn main() {}' > src/main.rs \
 && touch src/lib.rs crates/dsguard-sim/src/lib.rs \
 && cargo fetch --locked \
 && rm -rf src
COPY src src
# The shipped binary carries no symbols (about a third of its size); only this build strips, so
# `cargo bench` profiles keep their line tables.
ENV CARGO_PROFILE_RELEASE_STRIP=symbols
RUN cargo build --release --locked --no-default-features --bin dsguard \
 && install -D -m 0755 target/release/dsguard /out/dsguard

# cc-debian12: glibc and libgcc for the Rust binary (TLS is rustls, no OpenSSL needed).
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /out/dsguard /dsguard
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["/dsguard"]
CMD ["run"]
