# Stand-in for nginx:1.27: Debian's nginx with an entrypoint that does what the official one does.
FROM localhost/debian:bookworm
RUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nginx gettext-base curl >/dev/null \
 && rm -rf /var/lib/apt/lists/* /etc/nginx/sites-enabled/* && mkdir -p /docker-entrypoint.d /etc/nginx/templates
COPY nginx-entrypoint.sh /docker-entrypoint.sh
EXPOSE 80
STOPSIGNAL SIGQUIT
ENTRYPOINT ["/docker-entrypoint.sh"]
CMD ["nginx", "-g", "daemon off;"]
