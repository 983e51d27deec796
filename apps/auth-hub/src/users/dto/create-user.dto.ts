import { EmailField, NewPasswordField } from './credentials.fields';

/** The body of `POST /users`. */
export class CreateUserDto {
  @EmailField()
  email!: string;

  @NewPasswordField()
  password!: string;
}
