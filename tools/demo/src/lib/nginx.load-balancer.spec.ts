import { readFileSync } from 'node:fs';
import path from 'node:path';
import { NGINX_TEMPLATE_DIR, renderTemplate, renderUpstream, summarizeAccessLog } from './nginx.load-balancer';

describe('renderTemplate', () => {
  it('replaces the given ${NAME}s and leaves nginx variables alone', () => {
    expect(renderTemplate('listen ${ZDM_LB_LISTEN}; set $x $host; ${OTHER}', { ZDM_LB_LISTEN: '127.0.0.1:8080' })).toBe('listen 127.0.0.1:8080; set $x $host; ${OTHER}');
  });

  it('refuses to leave a ${ZDM_...} without a value', () => {
    expect(() => renderTemplate('include ${ZDM_UPSTREAM_FILE}; listen ${ZDM_LB_LISTEN};', {})).toThrow('nginx template needs a value for ZDM_UPSTREAM_FILE, ZDM_LB_LISTEN');
  });

  it('renders the deploy templates with the variables they document', () => {
    const services = readFileSync(path.join(NGINX_TEMPLATE_DIR, 'services.conf.template'), 'utf8');
    const rendered = renderTemplate(services, { ZDM_LB_LISTEN: '80', ZDM_UPSTREAM_FILE: '/etc/nginx/upstreams/*.conf', ZDM_ACCESS_LOG: '/dev/stdout' });
    expect(rendered).toContain('include /etc/nginx/upstreams/*.conf;');
    expect(rendered).toContain('proxy_next_upstream error timeout http_502 http_503 http_504;');
    expect(rendered).not.toMatch(/proxy_next_upstream[^;]*non_idempotent/);
    expect(rendered.match(/proxy_pass http:\/\/\$zdm_service;/g)).toHaveLength(2);
    const local = readFileSync(path.join(NGINX_TEMPLATE_DIR, 'nginx.local.conf.template'), 'utf8');
    expect(renderTemplate(local, { ZDM_NGINX_PREFIX: '/tmp/x' })).toContain('include /tmp/x/services.conf;');
  });
});

describe('renderUpstream', () => {
  it('lists every server of the block, with the reason as a comment', () => {
    expect(renderUpstream('customers', [{ host: '127.0.0.1', port: 3001 }, { host: 'green-2', port: 3000 }], 'switch\nto green')).toBe(
      '# switch to green\nupstream customers {\n    server 127.0.0.1:3001 max_fails=0;\n    server green-2:3000 max_fails=0;\n}\n',
    );
  });

  it('refuses an empty upstream', () => {
    expect(() => renderUpstream('customers', [], 'none')).toThrow('needs at least one server');
  });
});

describe('summarizeAccessLog', () => {
  it('counts requests sent to a second instance and the failed attempts before it', () => {
    const log = [
      '1700000000.001 GET 200 0.004 "127.0.0.1:3001" "200" 0.004',
      '1700000000.002 POST 201 0.010 "127.0.0.1:3001, 127.0.0.1:3002" "502, 201" 0.001, 0.009',
      '1700000000.003 GET 200 0.020 "127.0.0.1:3001, 127.0.0.1:3002" "504, 200" 0.010, 0.010',
      'garbage',
    ].join('\n');
    expect(summarizeAccessLog(log)).toEqual({ requests: 3, retried: 2, upstreamErrors: 2 });
  });
});
