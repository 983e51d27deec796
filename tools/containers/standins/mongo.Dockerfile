# Stand-in for mongo:8.0: FerretDB (SQLite handler). Context: a folder holding the ferretdb binary.
FROM localhost/debian:bookworm
COPY ferretdb /usr/local/bin/ferretdb
COPY mongo-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
COPY mongosh.sh /usr/local/bin/mongosh
RUN mkdir -p /data/db && chmod 0755 /usr/local/bin/docker-entrypoint.sh /usr/local/bin/mongosh && ln -s mongosh /usr/local/bin/mongo
VOLUME /data/db
EXPOSE 27017
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["mongod"]
