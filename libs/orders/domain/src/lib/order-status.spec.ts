import { ORDER_STATUSES, transitionProblem } from './order-status';

describe('order status transitions', () => {
  it('walks placed → paid → shipped → delivered', () => {
    expect(transitionProblem('placed', 'paid')).toBeUndefined();
    expect(transitionProblem('paid', 'shipped')).toBeUndefined();
    expect(transitionProblem('shipped', 'delivered')).toBeUndefined();
  });

  it('cancels only before shipped', () => {
    expect(transitionProblem('placed', 'cancelled')).toBeUndefined();
    expect(transitionProblem('paid', 'cancelled')).toBeUndefined();
    expect(transitionProblem('shipped', 'cancelled')).toBe('an order that is shipped cannot become cancelled; it can become delivered');
    expect(transitionProblem('delivered', 'cancelled')).toBe('an order that is delivered cannot become cancelled; delivered is final');
  });

  it('refuses skipping and going back, and lets a status stay as it is', () => {
    expect(transitionProblem('placed', 'shipped')).toBe('an order that is placed cannot become shipped; it can become paid or cancelled');
    expect(transitionProblem('paid', 'placed')).toMatch(/cannot become placed/);
    expect(transitionProblem('cancelled', 'paid')).toBe('an order that is cancelled cannot become paid; cancelled is final');
    for (const status of ORDER_STATUSES) expect(transitionProblem(status, status)).toBeUndefined();
  });
});
